"""OCPP 2.x block B beyond boot: the device model (NotifyReport, and what GetBaseReport /
GetReport / Get- and SetVariables answers tell us) and configuration of Pending chargers
from a vendor template (B02). The commands themselves are sent by
apps.devicemodel.provisioning, never from here."""

from __future__ import annotations

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on

from apps.devicemodel import services as dm
from apps.devicemodel import vendortemplates


def _wire(value):
    """Handlers get snake_case keys; the device model keeps the wire form (camelCase)."""
    return snake_to_camel_case(value)


def _info(answer: dict) -> str:
    info = answer.get("statusInfo") or {}
    return " ".join(filter(None, (info.get("reasonCode"), info.get("additionalInfo"))))


class ProvisioningMixin:
    @on("NotifyReport")
    async def on_notify_report(self, request_id: int, generated_at: str, seq_no: int, **kw):
        await self.db(
            dm.report_part_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=self._id(request_id, "requestId"),
            seq_no=self._id(seq_no, "seqNo"),
            generated_at=self._ts(generated_at, "generatedAt"),
            tbc=bool(kw.get("tbc", False)),
            report_data=[_wire(entry) for entry in kw.get("report_data") or []],
        )
        return {}

    async def after_boot(self, *, status: str, reason: str) -> None:
        # Queues the template run for after the answer has gone out; never sends from here.
        await self.db(
            vendortemplates.provisioning_boot, charge_point_id=self.ctx.charge_point_id, registration_status=status
        )
        await super().after_boot(status=status, reason=reason)

    # ------------------------------------------------------------------ answers to our commands
    async def answered_get_base_report(self, payload: dict, answer: dict) -> None:
        await self.db(
            dm.report_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            report_base=payload["reportBase"],
            status=answer["status"],
            status_info=_info(answer),
        )

    async def answered_get_report(self, payload: dict, answer: dict) -> None:
        criteria = {k: payload[k] for k in ("componentVariable", "componentCriteria") if k in payload}
        await self.db(
            dm.report_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            status=answer["status"],
            status_info=_info(answer),
            criteria=criteria,
        )

    async def answered_get_variables(self, payload: dict, answer: dict) -> None:
        await self.db(
            dm.variables_get_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            results=answer.get("getVariableResult") or [],
        )

    async def answered_set_variables(self, payload: dict, answer: dict) -> None:
        await self.db(
            dm.variables_set_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            requested=payload.get("setVariableData") or [],
            results=answer.get("setVariableResult") or [],
        )
