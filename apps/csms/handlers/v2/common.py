"""Helpers every OCPP 2.x handler mixin uses (mixed into the session class)."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.chargers import services as chargers
from apps.csms.protocol import FrameError, parse_timestamp

INT32 = 2**31 - 1


def snake_action(action: str) -> str:
    """ "GetVariables" -> "get_variables" (names of the answered_* hooks)."""
    out = []
    for i, ch in enumerate(action):
        if ch.isupper() and i and (not action[i - 1].isupper() or (i + 1 < len(action) and action[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class V2Helpers:
    """Parsing helpers shared by the mixins; `self` is the session."""

    def _ts(self, value: str | None, name: str = "timestamp") -> datetime:
        return parse_timestamp(value, self.errors, name) if value else datetime.now(UTC)

    def _id(self, value: int, name: str, minimum: int = 0) -> int:
        # The schemas say "integer"; ids (evseId, connectorId, requestId) are >= 0 and int32.
        if not minimum <= value <= INT32:
            raise FrameError(self.errors.property, f"{name} must be between {minimum} and {INT32}.")
        return value

    async def after_boot(self, *, status: str, reason: str) -> None:
        """Called after every BootNotification answer is decided; provisioning overrides it
        (this class comes last among the mixins, so any mixin's version wins)."""

    async def _event(self, kind: str, **kwargs) -> None:
        """Keep a notification as charger history (ChargerEvent)."""
        await self.db(chargers.charger_event_record, charge_point_id=self.ctx.charge_point_id, kind=kind, **kwargs)
