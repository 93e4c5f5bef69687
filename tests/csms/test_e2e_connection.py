"""End to end: handshake, tenancy, security profiles, subprotocols, registration, replacement."""

import asyncio

import pytest
import websockets
from ocpp.v16 import call

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.csms.services import csms_settings_update
from tests.csms.e2e import boot, charger, in_thread, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-01"


def _cp(identity):
    return ChargePoint.objects.get(identity=identity)


def test_cold_boot_accepted_by_path_and_marks_online(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-BOOT", password=PASSWORD)

    async def scenario():
        async with charger(e2e_db, "E2E-BOOT", password=PASSWORD) as cp:
            assert cp._connection.subprotocol == "ocpp1.6"
            result = await boot(
                cp, charge_point_serial_number="SN-1", firmware_version="1.2.3", iccid="8931", meter_type="ABB"
            )
            assert result.status == "Accepted"
            assert result.interval == 300
            hb = await cp.call(call.Heartbeat())
            assert hb.current_time
            stored = await wait_for(lambda: in_thread(e2e_db.schema, lambda: _cp("E2E-BOOT")))
            assert stored.online and stored.protocol_version == "ocpp1.6"
            assert (stored.vendor, stored.model, stored.serial_number) == ("EVzoneTest", "Sim-2", "SN-1")
            assert (stored.firmware_version, stored.iccid, stored.meter_type) == ("1.2.3", "8931", "ABB")
        offline = await wait_for(lambda: in_thread(e2e_db.schema, lambda: not _cp("E2E-BOOT").online))
        assert offline

    asyncio.run(scenario())


def test_tenant_from_host_header(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-HOST", password=PASSWORD)

    async def scenario():
        async with charger(e2e_db, "E2E-HOST", password=PASSWORD, by_path=False) as cp:
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(scenario())


@pytest.mark.parametrize("url_kind", ["unknown-host", "unknown-org", "platform-host"])
def test_unknown_tenant_refused_with_404(e2e_db, url_kind):
    async def scenario():
        if url_kind == "unknown-org":
            url = f"ws://127.0.0.1:{e2e_db.port}/ocpp/no-such-org/CP1"
        elif url_kind == "unknown-host":
            url = f"ws://nobody.example:{e2e_db.port}/ocpp/CP1"
        else:
            url = f"ws://127.0.0.1:{e2e_db.port}/ocpp/CP1"
        with pytest.raises(websockets.InvalidStatus) as exc:
            await websockets.connect(url, host="127.0.0.1", port=e2e_db.port, subprotocols=["ocpp1.6"])
        assert exc.value.response.status_code == 404

    asyncio.run(scenario())


@pytest.mark.parametrize("case", ["wrong-password", "wrong-user", "no-credentials", "unknown-identity"])
def test_basic_auth_refused_with_401(e2e_db, case):
    e2e_db.run(charge_point_create, identity="E2E-AUTH", password=PASSWORD)

    async def scenario():
        identity, headers = "E2E-AUTH", {}
        if case == "wrong-password":
            from tests.csms.e2e import basic

            headers = basic("E2E-AUTH", "not-the-right-password")
        elif case == "wrong-user":
            from tests.csms.e2e import basic

            headers = basic("SOMEONE-ELSE", PASSWORD)
        elif case == "unknown-identity":
            from tests.csms.e2e import basic

            identity, headers = "E2E-NOBODY", basic("E2E-NOBODY", PASSWORD)
        with pytest.raises(websockets.InvalidStatus) as exc:
            await websockets.connect(
                e2e_db.url(identity),
                host="127.0.0.1",
                port=e2e_db.port,
                subprotocols=["ocpp1.6"],
                additional_headers=headers,
            )
        response = exc.value.response
        assert response.status_code == 401
        # Nothing else learned: same answer, empty body, whatever was wrong.
        assert response.body == b""
        assert response.headers["WWW-Authenticate"] == 'Basic realm="OCPP"'

    asyncio.run(scenario())
    assert not e2e_db.run(lambda: ChargePoint.objects.filter(identity="E2E-NOBODY").exists())


def test_password_guessing_is_throttled(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-BRUTE", password=PASSWORD)

    async def attempt(password):
        try:
            async with charger(e2e_db, "E2E-BRUTE", password=password) as cp:
                return (await boot(cp)).status
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    async def scenario():
        assert await attempt(PASSWORD) == "Accepted"
        for i in range(10):
            assert await attempt(f"guess-number-{i:04d}-x") == 401
        # Even the right password is refused until the window passes.
        assert await attempt(PASSWORD) == 401

    asyncio.run(scenario())


def test_profile_2_requires_tls(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-TLS", password=PASSWORD, security_profile=2)

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as exc:
            async with charger(e2e_db, "E2E-TLS", password=PASSWORD):
                pass
        assert exc.value.response.status_code == 401
        # Behind a TLS-terminating proxy the scheme is wss: uvicorn takes it from X-Forwarded-Proto
        # (the test server trusts 127.0.0.1 by default, as production's --forwarded-allow-ips).
        async with charger(e2e_db, "E2E-TLS", password=PASSWORD, headers={"X-Forwarded-Proto": "https"}) as cp:
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(scenario())


def test_profile_3_client_certificate_from_proxy(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-CERT", security_profile=3)
    tls = {"X-Forwarded-Proto": "https"}

    async def scenario():
        for headers in (tls, {**tls, "X-SSL-Client-CN": "SOMEONE-ELSE"}, {"X-SSL-Client-CN": "E2E-CERT"}):
            with pytest.raises(websockets.InvalidStatus) as exc:
                async with charger(e2e_db, "E2E-CERT", headers=headers):
                    pass
            assert exc.value.response.status_code == 401
        async with charger(e2e_db, "E2E-CERT", headers={**tls, "X-SSL-Client-CN": "E2E-CERT"}) as cp:
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(scenario())


def test_subprotocol_negotiation(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-SUB", password=PASSWORD)

    async def scenario():
        # The newest protocol both sides speak wins; the token is echoed.
        async with charger(e2e_db, "E2E-SUB", password=PASSWORD, subprotocols=("ocpp2.0", "ocpp1.6")) as cp:
            assert cp._connection.subprotocol == "ocpp1.6"
        # None in common: handshake completes without a subprotocol, then the server closes.
        from tests.csms.e2e import basic

        ws = await websockets.connect(
            e2e_db.url("E2E-SUB"),
            host="127.0.0.1",
            port=e2e_db.port,
            subprotocols=["ocpp1.5", "ocpp2.0"],
            additional_headers=basic("E2E-SUB", PASSWORD),
        )
        assert ws.subprotocol is None
        with pytest.raises(websockets.ConnectionClosed) as exc:
            await asyncio.wait_for(ws.recv(), 5)
        assert exc.value.rcvd.code == 1002

    asyncio.run(scenario())


def test_unknown_identity_pending_then_accepted(e2e_db):
    e2e_db.run(csms_settings_update, unknown_identity_policy="pending", pending_retry_interval=15)

    async def scenario():
        async with charger(e2e_db, "E2E-NEW") as cp:
            result = await boot(cp)
            assert (result.status, result.interval) == ("Pending", 15)
            # Not accepted: it may not authorise anyone.
            with pytest.raises(Exception) as exc:
                await cp.call(call.Authorize(id_tag="TAG"), suppress=False)
            assert type(exc.value).__name__ == "SecurityError"
            # An operator accepts it; the next boot says so.
            await in_thread(
                e2e_db.schema,
                lambda: ChargePoint.objects.filter(identity="E2E-NEW").update(registration_status="Accepted"),
            )
            assert (await boot(cp)).status == "Accepted"
            auth = await cp.call(call.Authorize(id_tag="TAG"))
            assert auth.id_tag_info["status"] == "Invalid"

    asyncio.run(scenario())
    assert e2e_db.run(lambda: _cp("E2E-NEW")).security_profile == 0


def test_unknown_identity_accept_policy(e2e_db):
    e2e_db.run(csms_settings_update, unknown_identity_policy="accept")

    async def scenario():
        async with charger(e2e_db, "E2E-AUTO") as cp:
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(scenario())


def test_second_connection_replaces_first(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-TWICE", password=PASSWORD)

    async def scenario():
        async with charger(e2e_db, "E2E-TWICE", password=PASSWORD) as first:
            await boot(first)
            async with charger(e2e_db, "E2E-TWICE", password=PASSWORD) as second:
                await first._connection.wait_closed()
                assert (await boot(second)).status == "Accepted"
                await asyncio.sleep(0.3)
                # The old socket's close must not mark the charger offline.
                cp = await in_thread(e2e_db.schema, lambda: _cp("E2E-TWICE"))
                assert cp.online

    asyncio.run(scenario())
