"""OCPP 2.x block L (firmware): progress of updates and publications (apps.smartcharging.firmware)."""

from __future__ import annotations

from ocpp.routing import on

from apps.csms.handlers.v2.camel import to_wire
from apps.smartcharging import firmware as fw


class FirmwareMixin:
    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(self, status: str, **kw):
        request_id = kw.get("request_id")
        await self.db(
            fw.firmware_status_record,
            charge_point_id=self.ctx.charge_point_id,
            status=status,
            request_id=None if request_id is None else self._id(request_id, "requestId"),
            status_info=to_wire(kw["status_info"]) if kw.get("status_info") else None,
        )
        return {}

    @on("PublishFirmwareStatusNotification")
    async def on_publish_firmware_status_notification(self, status: str, **kw):
        request_id = kw.get("request_id")
        await self.db(
            fw.firmware_publish_status_record,
            charge_point_id=self.ctx.charge_point_id,
            status=status,
            request_id=None if request_id is None else self._id(request_id, "requestId"),
            locations=kw.get("location") or [],
        )
        return {}

    # ------------------------------------------------------------------ answers to our commands
    async def answered_update_firmware(self, payload: dict, answer: dict) -> None:
        await self.db(
            fw.firmware_update_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload.get("requestId"),
            answer=answer.get("status", ""),
            answer_info=answer.get("statusInfo"),
            payload=payload,
        )

    async def answered_publish_firmware(self, payload: dict, answer: dict) -> None:
        await self.db(
            fw.firmware_publication_answer_record,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            answer=answer.get("status", ""),
            payload=payload,
        )

    async def answered_unpublish_firmware(self, payload: dict, answer: dict) -> None:
        await self.db(
            fw.firmware_unpublished_record,
            charge_point_id=self.ctx.charge_point_id,
            checksum=payload.get("checksum", ""),
            answer=answer.get("status", ""),
        )
