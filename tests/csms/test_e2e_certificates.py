"""End to end, OCPP 2.0.1 A02/A03 over a real websocket: a station sends SignCertificate,
the live server's CA signs it and -- after the answer, from outside the receive path --
sends CertificateSigned, whose chain verifies against the organisation's root."""

import asyncio
import contextlib

import pytest
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint as Station201
from ocpp.v201 import call, call_result

from apps.certificates import pki
from apps.certificates.models import CertificateAuthority, IssuedCertificate
from apps.chargers.services import charge_point_create
from tests.certificates.test_pki import make_csr
from tests.csms.e2e import basic, in_thread, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-07"
IDENTITY = "CERT-E2E"


class Station(Station201):
    """Keeps the CertificateSigned it gets and accepts it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.signed: asyncio.Future = asyncio.get_running_loop().create_future()

    @on("CertificateSigned")
    async def on_certificate_signed(self, certificate_chain: str, **kw):
        if not self.signed.done():
            self.signed.set_result({"certificate_chain": certificate_chain, **kw})
        return call_result.CertificateSigned(status="Accepted")


def _root_pem() -> str:
    return CertificateAuthority.objects.get(kind="root", active=True).certificate_pem


def _issued_status() -> str | None:
    issued = IssuedCertificate.objects.filter(identity=IDENTITY).first()
    return issued.status if issued else None


def test_sign_certificate_then_certificate_signed(e2e_db):
    e2e_db.run(charge_point_create, identity=IDENTITY, password=PASSWORD)

    async def scenario():
        ws = await websockets.connect(
            e2e_db.url(IDENTITY),
            host="127.0.0.1",
            port=e2e_db.port,
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic(IDENTITY, PASSWORD),
            open_timeout=5,
        )
        station = Station(IDENTITY, ws, response_timeout=10)
        task = asyncio.create_task(station.start())
        try:
            boot = await station.call(
                call.BootNotification(charging_station={"model": "Wallbox X", "vendor_name": "ACME"}, reason="PowerUp")
            )
            assert boot.status == "Accepted"
            await station.call(call.Heartbeat())
            # The CSR as a station makes it (A02.FR.02/03): CN = identity, O = CpoName.
            answer = await station.call(
                call.SignCertificate(
                    csr=make_csr(cn=IDENTITY, o="OCPP e2e"), certificate_type="ChargingStationCertificate"
                )
            )
            assert answer.status == "Accepted"
            signed = await asyncio.wait_for(station.signed, 15)
            assert signed["certificate_type"] == "ChargingStationCertificate"
            chain = pki.load_certificates(signed["certificate_chain"])
            root = pki.load_certificates(await in_thread(e2e_db.schema, _root_pem))[0]
            pki.verify_chain(chain, root)
            assert chain[0].subject.rfc4514_string() == f"CN={IDENTITY},O=OCPP e2e"
            # The station's Accepted is stored against the issued certificate.
            await wait_for(lambda: _status_is(e2e_db, "accepted"), timeout=10)
            # A CSR naming another station is refused, and nothing is sent.
            refused = await station.call(call.SignCertificate(csr=make_csr(cn="SOMEONE", o="OCPP e2e")))
            assert refused.status == "Rejected" and refused.status_info["reason_code"] == "InvalidCSR"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await ws.close()

    asyncio.run(scenario())


async def _status_is(server, status: str) -> bool:
    return await in_thread(server.schema, _issued_status) == status
