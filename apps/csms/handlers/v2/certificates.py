"""OCPP 2.x block M (certificate management) and A02/A03 (the station's own certificate).

* SignCertificate: our organisation CA checks and signs the CSR (apps.certificates); the
  CertificateSigned that carries the result is queued for after this answer -- never sent
  from here (its answer would arrive on this very receive path).
* Get15118EVCertificate: EVzone holds no contract-certificate pool and talks to no
  ISO 15118 PKI, so the answer is Failed with an empty exiResponse and a reason.
* GetCertificateStatus / 2.1 GetCertificateChainStatus: answered from our own records for
  certificates our CA issued (a real OCSP response signed by the issuing CA); any other is
  asked of the given responder URL (apps.certificates.ocsp: cached, SSRF-guarded), and Failed
  when no checked answer comes back (M06: Failed when the CSMS cannot obtain the status).
* Answers to InstallCertificate / GetInstalledCertificateIds / DeleteCertificate /
  CertificateSigned are stored through the `answered_*` hooks.
"""

from __future__ import annotations

import base64

from ocpp.routing import on

from apps.certificates import services as certificates
from apps.core.timefmt import iso_utc, now_iso


def _failed(reason: str, info: str) -> dict:
    return {"reason_code": reason, "additional_info": info}


class CertificatesMixin:
    @on("SignCertificate")
    async def on_sign_certificate(self, csr: str, **kw):
        result = await self.db(
            certificates.certificate_sign_request,
            charge_point_id=self.ctx.charge_point_id,
            csr=csr,
            certificate_type=kw.get("certificate_type"),
            request_id=kw.get("request_id"),
            registration_status=self.ctx.registration_status,
        )
        return result.answer()

    @on("Get15118EVCertificate")
    async def on_get15118_ev_certificate(self, iso15118_schema_version: str, action: str, exi_request: str, **kw):
        await self._event("Get15118EVCertificate", status="Failed", info=f"{action} {iso15118_schema_version}")
        return {
            "status": "Failed",
            "exi_response": "",
            "status_info": _failed(
                "NotSupported", "This CSMS has no contract certificate pool or ISO 15118 PKI connection."
            ),
        }

    @on("GetCertificateStatus")
    async def on_get_certificate_status(self, ocsp_request_data: dict, **kw):
        status, _, der = await self.db(certificates.certificate_status, hash_data=ocsp_request_data)
        if der is None:
            return {
                "status": "Failed",
                "status_info": _failed("NotFound", "No valid OCSP response could be obtained for it."),
            }
        return {"status": "Accepted", "ocsp_result": base64.b64encode(der).decode()}

    # ------------------------------------------------------------------ answers to our commands
    async def _certificate_answer(self, action: str, payload: dict, answer: dict) -> None:
        await self.db(
            certificates.certificate_command_answered,
            charge_point_id=self.ctx.charge_point_id,
            action=action,
            payload=payload,
            answer=answer,
        )

    async def answered_certificate_signed(self, payload: dict, answer: dict) -> None:
        await self._certificate_answer("CertificateSigned", payload, answer)

    async def answered_install_certificate(self, payload: dict, answer: dict) -> None:
        await self._certificate_answer("InstallCertificate", payload, answer)

    async def answered_get_installed_certificate_ids(self, payload: dict, answer: dict) -> None:
        await self._certificate_answer("GetInstalledCertificateIds", payload, answer)

    async def answered_delete_certificate(self, payload: dict, answer: dict) -> None:
        await self._certificate_answer("DeleteCertificate", payload, answer)


class CertificatesV21Mixin:
    """OCPP 2.1 only (a 2.0.1 station sending it gets NotImplemented): compose into V21Session."""

    @on("GetCertificateChainStatus")
    async def on_get_certificate_chain_status(self, certificate_status_requests: list, **kw):
        out = []
        for request in certificate_status_requests:
            data = request["certificate_hash_data"]
            urls = request.get("urls") or []
            if request["source"] == "OCSP" and urls:
                # The first URL only: one responder timeout per entry on the receive path.
                data = {**data, "responder_url": urls[0]}
            # No CRL is fetched (source CRL): only our own certificates are known then.
            status, next_update, _ = await self.db(certificates.certificate_status, hash_data=data)
            out.append(
                {
                    "certificate_hash_data": {
                        k: v for k, v in request["certificate_hash_data"].items() if k != "custom_data"
                    },
                    "source": request["source"],
                    "status": status,
                    "next_update": iso_utc(next_update) if next_update else now_iso(),
                }
            )
        return {"certificate_status": out}
