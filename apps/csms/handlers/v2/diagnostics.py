"""OCPP 2.x block N: log uploads (GetLog / LogStatusNotification), monitoring
(NotifyMonitoringReport, NotifyEvent and the answers to the monitoring commands) and
customer information (NotifyCustomerInformation)."""

from __future__ import annotations

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on

from apps.csms.protocol import FrameError
from apps.diagnostics import services as diag
from apps.diagnostics.models import StationRequest


class DiagnosticsMixin:
    # ------------------------------------------------------------------ N01 logs
    @on("LogStatusNotification")
    async def on_log_status_notification(self, status: str, **kw):
        request_id = kw.get("request_id")
        if request_id is not None:
            self._id(request_id, "requestId")
        info = kw.get("status_info") or {}
        await self.db(
            diag.log_status_record,
            charge_point_id=self.ctx.charge_point_id,
            status=status,
            request_id=request_id,
            info=" ".join(filter(None, [info.get("reason_code"), info.get("additional_info")])),
        )
        return {}

    async def answered_get_log(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.log_request_answered,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            answer=answer["status"],
            filename=answer.get("filename", ""),
        )

    # ------------------------------------------------------------------ N02-N08 monitoring
    @on("NotifyMonitoringReport")
    async def on_notify_monitoring_report(self, request_id: int, seq_no: int, generated_at: str, **kw):
        await self.db(
            diag.monitoring_report_part,
            charge_point_id=self.ctx.charge_point_id,
            request_id=self._id(request_id, "requestId"),
            seq_no=self._id(seq_no, "seqNo"),
            tbc=kw.get("tbc", False),
            generated_at=self._ts(generated_at, "generatedAt"),
            monitors=snake_to_camel_case(kw.get("monitor") or []),
        )
        return {}

    @on("NotifyEvent")
    async def on_notify_event(self, generated_at: str, seq_no: int, event_data: list, **kw):
        events = snake_to_camel_case(event_data)
        for event in events:
            # Checked here so a bad date is the station's TypeConstraintViolation, not our error.
            self._ts(event["timestamp"], "timestamp")
            if event.get("severity") is not None and not 0 <= event["severity"] <= 9:
                raise FrameError(self.errors.property, "severity must be between 0 and 9.")
        await self.db(
            diag.events_record,
            charge_point_id=self.ctx.charge_point_id,
            generated_at=self._ts(generated_at, "generatedAt"),
            seq_no=self._id(seq_no, "seqNo"),
            events=events,
        )
        return {}

    async def answered_set_variable_monitoring(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.monitoring_set_answered,
            charge_point_id=self.ctx.charge_point_id,
            requested=payload["setMonitoringData"],
            results=answer.get("setMonitoringResult", []),
        )

    async def answered_clear_variable_monitoring(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.monitoring_clear_answered,
            charge_point_id=self.ctx.charge_point_id,
            results=answer.get("clearMonitoringResult", []),
        )

    async def answered_set_monitoring_base(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.monitoring_base_answered,
            charge_point_id=self.ctx.charge_point_id,
            base=payload["monitoringBase"],
            status=answer["status"],
        )

    async def answered_set_monitoring_level(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.monitoring_level_answered,
            charge_point_id=self.ctx.charge_point_id,
            severity=payload["severity"],
            status=answer["status"],
        )

    async def answered_get_monitoring_report(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.monitoring_report_answered,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            status=answer["status"],
            params=payload,
        )

    # ------------------------------------------------------------------ N09/N10 customer information
    @on("NotifyCustomerInformation")
    async def on_notify_customer_information(self, data: str, seq_no: int, generated_at: str, request_id: int, **kw):
        await self.db(
            diag.customer_information_part,
            charge_point_id=self.ctx.charge_point_id,
            request_id=self._id(request_id, "requestId"),
            seq_no=self._id(seq_no, "seqNo"),
            tbc=kw.get("tbc", False),
            generated_at=self._ts(generated_at, "generatedAt"),
            data=data,
        )
        return {}

    async def answered_customer_information(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.station_request_answered,
            charge_point_id=self.ctx.charge_point_id,
            kind=StationRequest.Kind.CUSTOMER_INFORMATION,
            request_id=payload["requestId"],
            answer=answer["status"],
            params=payload,
        )
