"""OCPP 2.x block B (boot, heartbeat), G (StatusNotification), A (security events)
and P (DataTransfer): the messages every station sends."""

from __future__ import annotations

from ocpp.routing import on

from apps.core.timefmt import now_iso
from apps.csms import batching
from apps.csms import services as csms


class CoreMixin:
    @on("BootNotification")
    async def on_boot_notification(self, charging_station: dict, reason: str, **kw):
        modem = charging_station.get("modem") or {}
        status, interval = await self.db(
            csms.boot_accept,
            charge_point_id=self.ctx.charge_point_id,
            vendor=charging_station["vendor_name"],
            model=charging_station["model"],
            serial_number=charging_station.get("serial_number", ""),
            firmware_version=charging_station.get("firmware_version", ""),
            iccid=modem.get("iccid", ""),
            imsi=modem.get("imsi", ""),
        )
        self.ctx.registration_status = status
        await self.after_boot(status=status, reason=reason)
        return {"current_time": now_iso(), "interval": interval, "status": status}

    @on("Heartbeat")
    async def on_heartbeat(self, **kw):
        # last_seen is refreshed in bulk by the message log writer.
        return {"current_time": now_iso()}

    @on("StatusNotification")
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **kw
    ):
        # Batched with other chargers' notifications; answered once stored (apps.csms.batching).
        await batching.connector_status_record(
            self._db,
            self.ctx.schema,
            charge_point_id=self.ctx.charge_point_id,
            evse_id=self._id(evse_id, "evseId"),
            connector_id=self._id(connector_id, "connectorId"),
            status=connector_status,
            timestamp=self._ts(timestamp),
        )
        return {}

    @on("SecurityEventNotification")
    async def on_security_event_notification(self, type: str, timestamp: str, **kw):
        await self._event(
            "SecurityEventNotification", status=type, info=kw.get("tech_info", ""), timestamp=self._ts(timestamp)
        )
        return {}

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id: str, **kw):
        await self._event(
            "DataTransfer",
            status=kw.get("message_id", ""),
            info=vendor_id,
            payload={"vendorId": vendor_id, "messageId": kw.get("message_id"), "data": kw.get("data")},
        )
        # No vendor extensions are installed: the answer the specification defines for that.
        return {"status": "UnknownVendorId"}
