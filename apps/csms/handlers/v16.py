"""OCPP 1.6J (Core, Firmware, Local list, Reservation, Smart charging, Remote trigger,
and the 1.6 security extension): parse, call the shared services, shape the answer."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from apps.certificates import services as certificates
from apps.chargers import services as chargers
from apps.charging import services as charging
from apps.charging.selectors import IdTokenInfo, id_token_info_for_charging
from apps.core.timefmt import iso_utc, now_iso
from apps.csms import batching, catalogue
from apps.csms import services as csms
from apps.csms.handlers.base import CallOutcome, SessionBase
from apps.csms.protocol import V16_ERRORS, FrameError, parse_timestamp

_INT32 = 2**31 - 1
_INT64 = 2**63 - 1


def id_tag_info(info: IdTokenInfo) -> dict:
    result = {"status": info.status}
    if info.expires_at is not None:
        result["expiry_date"] = iso_utc(info.expires_at)
    if info.group_id:
        result["parent_id_tag"] = info.group_id[:20]
    return result


class V16Session(SessionBase, LibChargePoint):
    version = "1.6"
    subprotocol = "ocpp1.6"
    errors = V16_ERRORS
    known_actions = catalogue.ALL_16
    outbound_actions = catalogue.OUTBOUND_16
    # 1.6 section 4.2.1: a Pending charger sends nothing but BootNotification unless triggered;
    # it certainly may not start charging on our authority.
    requires_acceptance = frozenset({"Authorize", "StartTransaction"})

    def _connector(self, connector_id: int, minimum: int = 0) -> int:
        # The schemas say "integer"; the specification says connectorId >= 0 (> 0 for transactions).
        if not minimum <= connector_id <= _INT32:
            raise FrameError(self.errors.property, f"connectorId must be between {minimum} and {_INT32}.")
        return connector_id

    def _meter(self, value: int, name: str) -> int:
        if not -_INT64 <= value <= _INT64:
            raise FrameError(self.errors.property, f"{name} is out of range.")
        return value

    def _ts(self, value: str | None, name: str = "timestamp") -> datetime:
        return parse_timestamp(value, self.errors, name) if value else datetime.now(UTC)

    def _meter_values(self, values: list[dict]) -> list[dict]:
        return [{**mv, "timestamp": self._ts(mv.get("timestamp"), "meterValue/timestamp")} for mv in values]

    async def _event(self, kind: str, **kwargs) -> None:
        await self.db(chargers.charger_event_record, charge_point_id=self.ctx.charge_point_id, kind=kind, **kwargs)

    # ------------------------------------------------------------------ Core
    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kw):
        status, interval = await self.db(
            csms.boot_accept,
            charge_point_id=self.ctx.charge_point_id,
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=kw.get("charge_point_serial_number", ""),
            charge_box_serial_number=kw.get("charge_box_serial_number", ""),
            firmware_version=kw.get("firmware_version", ""),
            iccid=kw.get("iccid", ""),
            imsi=kw.get("imsi", ""),
            meter_type=kw.get("meter_type", ""),
            meter_serial_number=kw.get("meter_serial_number", ""),
        )
        self.ctx.registration_status = status
        return call_result.BootNotification(current_time=now_iso(), interval=interval, status=status)

    @on(Action.heartbeat)
    async def on_heartbeat(self, **kw):
        # last_seen is refreshed in bulk by the message log writer.
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id: int, error_code: str, status: str, **kw):
        self._connector(connector_id)
        # Batched with other chargers' notifications; answered once stored (apps.csms.batching).
        await batching.connector_status_record(
            self._db,
            self.ctx.schema,
            charge_point_id=self.ctx.charge_point_id,
            evse_id=connector_id,
            connector_id=connector_id,
            status=status,
            error_code=error_code,
            info=kw.get("info", ""),
            vendor_id=kw.get("vendor_id", ""),
            vendor_error_code=kw.get("vendor_error_code", ""),
            timestamp=self._ts(kw.get("timestamp")),
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, **kw):
        info = await self.db(id_token_info_for_charging, id_tag=id_tag, charge_point_id=self.ctx.charge_point_id)
        return call_result.Authorize(id_tag_info=id_tag_info(info))

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kw):
        self._connector(connector_id, minimum=1)
        self._meter(meter_start, "meterStart")
        tx, info = await self.db(
            charging.transaction_start,
            charge_point_id=self.ctx.charge_point_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=self._ts(timestamp),
            reservation_id=kw.get("reservation_id"),
        )
        return call_result.StartTransaction(transaction_id=int(tx.transaction_id), id_tag_info=id_tag_info(info))

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kw):
        self._meter(meter_stop, "meterStop")
        data = self._meter_values(kw.get("transaction_data") or [])
        _, info = await self.db(
            charging.transaction_stop,
            charge_point_id=self.ctx.charge_point_id,
            transaction_id=str(transaction_id),
            meter_stop=meter_stop,
            timestamp=self._ts(timestamp),
            reason=kw.get("reason", ""),
            id_tag=kw.get("id_tag", ""),
            transaction_data=data,
        )
        return call_result.StopTransaction(id_tag_info=id_tag_info(info) if info else None)

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list, **kw):
        self._connector(connector_id)
        tx_id = kw.get("transaction_id")
        # Batched with other chargers' MeterValues; answered only once stored (apps.csms.batching).
        await batching.meter_values_record(
            self._db,
            self.ctx.schema,
            charge_point_id=self.ctx.charge_point_id,
            connector_id=connector_id,
            meter_values=self._meter_values(meter_value),
            transaction_id=str(tx_id) if tx_id is not None else None,
        )
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **kw):
        await self._event(
            "DataTransfer",
            status=kw.get("message_id", ""),
            info=vendor_id,
            payload={"vendorId": vendor_id, "messageId": kw.get("message_id"), "data": kw.get("data")},
        )
        # No vendor extensions are installed: the answer the specification defines for that.
        return call_result.DataTransfer(status="UnknownVendorId")

    # ------------------------------------------------------------------ Firmware management
    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, status: str, **kw):
        await self._event("DiagnosticsStatusNotification", status=status, diagnostics_status=status)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(self, status: str, **kw):
        await self._event("FirmwareStatusNotification", status=status, firmware_status=status)
        return call_result.FirmwareStatusNotification()

    # ------------------------------------------------------------------ Security extension
    @on(Action.security_event_notification)
    async def on_security_event_notification(self, type: str, timestamp: str, **kw):
        await self._event(
            "SecurityEventNotification", status=type, info=kw.get("tech_info", ""), timestamp=self._ts(timestamp)
        )
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    async def on_sign_certificate(self, csr: str, **kw):
        # The organisation's CA signs it (apps.certificates); CertificateSigned is queued for
        # after this answer. 1.6 has no statusInfo: the reason is in the charger's history.
        result = await self.db(
            certificates.certificate_sign_request,
            charge_point_id=self.ctx.charge_point_id,
            csr=csr,
            registration_status=self.ctx.registration_status,
        )
        return call_result.SignCertificate(status=result.status)

    @on(Action.log_status_notification)
    async def on_log_status_notification(self, status: str, **kw):
        await self._event("LogStatusNotification", status=status, request_id=kw.get("request_id"))
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    async def on_signed_firmware_status_notification(self, status: str, **kw):
        await self._event(
            "SignedFirmwareStatusNotification", status=status, request_id=kw.get("request_id"), firmware_status=status
        )
        return call_result.SignedFirmwareStatusNotification()

    # ------------------------------------------------------------------ answers to our commands
    async def after_command(self, action: str, payload: dict, outcome: CallOutcome) -> None:
        if not outcome.ok or outcome.schema_error:
            return
        answer = outcome.frame.payload
        cp_id = self.ctx.charge_point_id
        if action in ("CertificateSigned", "InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate"):
            await self.db(
                certificates.certificate_command_answered,
                charge_point_id=cp_id,
                action=action,
                payload=payload,
                answer=answer,
            )
        elif action == "GetConfiguration":
            keys = [
                {"key": k["key"], "value": k.get("value"), "readonly": k.get("readonly", False)}
                for k in answer.get("configurationKey", [])
            ]
            await self.db(
                chargers.configuration_store, charge_point_id=cp_id, keys=keys, complete=not payload.get("key")
            )
        elif action == "ChangeConfiguration" and answer.get("status") in ("Accepted", "RebootRequired"):
            await self.db(
                chargers.configuration_key_set, charge_point_id=cp_id, key=payload["key"], value=payload["value"]
            )
        elif action == "ReserveNow":
            await self.db(
                charging.reservation_record,
                charge_point_id=cp_id,
                reservation_id=payload["reservationId"],
                connector_id=payload["connectorId"],
                id_tag=payload["idTag"],
                parent_id_tag=payload.get("parentIdTag", ""),
                expires_at=parse_timestamp(payload["expiryDate"], self.errors, "expiryDate"),
                charger_status=answer["status"],
            )
        elif action == "CancelReservation" and answer.get("status") == "Accepted":
            await self.db(charging.reservation_cancel, charge_point_id=cp_id, reservation_id=payload["reservationId"])
        elif action == "SendLocalList" and answer.get("status") == "Accepted":
            await self.db(
                chargers.charge_point_set_local_list_version, charge_point_id=cp_id, version=payload["listVersion"]
            )
        elif action == "GetLocalListVersion":
            await self.db(
                chargers.charge_point_set_local_list_version, charge_point_id=cp_id, version=answer["listVersion"]
            )
