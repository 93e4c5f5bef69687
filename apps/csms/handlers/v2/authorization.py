"""OCPP 2.x block C (Authorize; ClearCache needs nothing stored) and D (local list answers)."""

from __future__ import annotations

from ocpp.routing import on

from apps.certificates import ocsp
from apps.certificates import services as certificates
from apps.chargers import services as chargers
from apps.charging.transaction_events import authorize_v2
from apps.csms.handlers.v2.wire import id_token_info_v2

# Contract certificate verdicts (apps.certificates) -> AuthorizeCertificateStatusEnumType.
# Revoked: C07.FR.16 (CertificateRevoked with idTokenInfo.status Invalid). The others have no
# requirement of their own; they refuse the same way (C07.FR.04: "a reason for rejection"):
# Unknown (the responder does not know the certificate as one of this issuer's) is a chain
# that cannot be validated; Failed (no status obtainable) is "no certificate status available".
_CERTIFICATE_STATUS = {
    ocsp.GOOD: "Accepted",
    ocsp.REVOKED: "CertificateRevoked",
    ocsp.UNKNOWN: "CertChainError",
    ocsp.BAD_SIGNATURE: "SignatureError",
    ocsp.FAILED: "NoCertificateAvailable",
}


class AuthorizationMixin:
    @on("Authorize")
    async def on_authorize(self, id_token: dict, **kw):
        info = await self.db(
            authorize_v2,
            id_token=id_token["id_token"],
            type=id_token["type"],
            charge_point_id=self.ctx.charge_point_id,
        )
        # camelCase keys inside pass the session's camelCasing unchanged.
        answer = {"id_token_info": id_token_info_v2(info)}
        hash_data = kw.get("iso15118_certificate_hash_data")
        # An eMAID we refuse anyway needs no OCSP round trip. A PEM `certificate` alone is not
        # checked (no chain validation against V2G/MO roots here): the eMAID decides.
        if hash_data and info.status == "Accepted":
            verdict = await self.db(certificates.contract_certificate_status, hash_data=hash_data)
            if verdict != certificates.UNVERIFIED_ACCEPTED:  # local policy: the eMAID alone decides
                answer["certificate_status"] = _CERTIFICATE_STATUS[verdict]
                if verdict != ocsp.GOOD:
                    answer["id_token_info"] = {"status": "Invalid"}
        return answer

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
