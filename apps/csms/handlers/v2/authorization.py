"""OCPP 2.x block C (Authorize) and D (local list answers)."""

from __future__ import annotations

from ocpp.routing import on

from apps.charging.selectors import IdTokenInfo, id_token_info_for_charging
from apps.csms.handlers.v2.common import iso


def id_token_info(info: IdTokenInfo) -> dict:
    """IdTokenInfoType (snake_case; the session camelCases it)."""
    result: dict = {"status": info.status}
    if info.expires_at is not None:
        result["cache_expiry_date_time"] = iso(info.expires_at)
    if info.group_id:
        result["group_id_token"] = {"id_token": info.group_id[:36], "type": "Central"}
    return result


class AuthorizationMixin:
    @on("Authorize")
    async def on_authorize(self, id_token: dict, **kw):
        info = await self.db(
            id_token_info_for_charging, id_tag=id_token["id_token"], charge_point_id=self.ctx.charge_point_id
        )
        return {"id_token_info": id_token_info(info)}
