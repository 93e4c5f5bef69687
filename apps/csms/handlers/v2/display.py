"""OCPP 2.x block O (display messages): NotifyDisplayMessages and the answers to
SetDisplayMessage, GetDisplayMessages and ClearDisplayMessage."""

from __future__ import annotations

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on

from apps.diagnostics import services as diag


class DisplayMixin:
    @on("NotifyDisplayMessages")
    async def on_notify_display_messages(self, request_id: int, **kw):
        messages = snake_to_camel_case(kw.get("message_info") or [])
        for info in messages:
            self._id(info["id"], "id")
            for name in ("startDateTime", "endDateTime"):
                if info.get(name):
                    self._ts(info[name], name)
        await self.db(
            diag.display_messages_part,
            charge_point_id=self.ctx.charge_point_id,
            request_id=self._id(request_id, "requestId"),
            tbc=kw.get("tbc", False),
            messages=messages,
        )
        return {}

    async def answered_set_display_message(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.display_message_set_answered,
            charge_point_id=self.ctx.charge_point_id,
            message=payload["message"],
            status=answer["status"],
        )

    async def answered_get_display_messages(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.display_messages_answered,
            charge_point_id=self.ctx.charge_point_id,
            request_id=payload["requestId"],
            status=answer["status"],
            params=payload,
        )

    async def answered_clear_display_message(self, payload: dict, answer: dict) -> None:
        await self.db(
            diag.display_message_clear_answered,
            charge_point_id=self.ctx.charge_point_id,
            message_id=payload["id"],
            status=answer["status"],
        )
