"""OCPP 2.x block C (Authorize; ClearCache needs nothing stored) and D (local list answers)."""

from __future__ import annotations

from ocpp.routing import on

from apps.chargers import services as chargers
from apps.charging.transaction_events import authorize_v2
from apps.csms.handlers.v2.wire import id_token_info_v2


class AuthorizationMixin:
    @on("Authorize")
    async def on_authorize(self, id_token: dict, **kw):
        # `certificate` / `iso15118CertificateHashData` (ISO 15118 contract certificates)
        # are accepted; without an OCSP client EVzone cannot vouch for them, so the answer
        # leaves certificateStatus out and judges the idToken (eMAID) alone.
        info = await self.db(
            authorize_v2,
            id_token=id_token["id_token"],
            type=id_token["type"],
            charge_point_id=self.ctx.charge_point_id,
        )
        # camelCase keys inside pass the session's camelCasing unchanged.
        return {"id_token_info": id_token_info_v2(info)}

    # ------------------------------------------------------------------ D: local list answers
    async def answered_send_local_list(self, payload: dict, answer: dict) -> None:
        if answer.get("status") == "Accepted":
            await self.db(
                chargers.charge_point_set_local_list_version,
                charge_point_id=self.ctx.charge_point_id,
                version=payload["versionNumber"],
            )

    async def answered_get_local_list_version(self, payload: dict, answer: dict) -> None:
        await self.db(
            chargers.charge_point_set_local_list_version,
            charge_point_id=self.ctx.charge_point_id,
            version=answer["versionNumber"],
        )
