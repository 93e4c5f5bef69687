"""End to end, OCPP 1.6 scenarios (after the OCTT test cases): a real `ocpp` library charger
over a real websocket to the live server; commands go from this test process through
the Redis channel layer to the server process holding the socket."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from ocpp.v16 import call, call_result

from apps.chargers.models import ChargePoint, ChargerEvent, ConfigurationKey
from apps.chargers.services import charge_point_create
from apps.charging.models import MeterValue, Reservation, Transaction
from apps.charging.services import id_token_create
from apps.csms.commands import command_send
from apps.csms.models import Command
from tests.csms.e2e import basic, boot, charger, in_thread, now_iso, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-01"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def send_command(identity: str, action: str, payload: dict, timeout: float = 5):
    cp = ChargePoint.objects.get(identity=identity)
    return command_send(charge_point=cp, action=action, payload=payload, timeout=timeout, source="test")


async def command(server, identity, action, payload=None, timeout=5):
    """Issue a command from a worker thread of this (non-server) process, as a view would."""
    return await in_thread(
        server.schema, send_command, identity=identity, action=action, payload=payload or {}, timeout=timeout
    )


@pytest.fixture
def cp_id(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-CP", password=PASSWORD)
    e2e_db.run(id_token_create, id_token="GOOD")
    e2e_db.run(id_token_create, id_token="BLOCKED", status="Blocked")
    e2e_db.run(id_token_create, id_token="OLD", expires_at=datetime.now(UTC) - timedelta(days=1))
    return "E2E-CP"


def connected(server, **kw):
    return charger(server, "E2E-CP", password=PASSWORD, **kw)


@pytest.mark.parametrize("order", ["authorize-first", "cable-first"])
def test_charging_session(e2e_db, cp_id, order):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
            if order == "cable-first":
                await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            auth = await cp.call(call.Authorize(id_tag="GOOD"))
            assert auth.id_tag_info["status"] == "Accepted"
            if order == "authorize-first":
                await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            start = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="GOOD", meter_start=100, timestamp=now_iso())
            )
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=start.transaction_id,
                    meter_value=[
                        {
                            "timestamp": now_iso(),
                            "sampledValue": [
                                {"value": "1100", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
                            ],
                        }
                    ],
                )
            )
            stop = await cp.call(
                call.StopTransaction(
                    meter_stop=5100,
                    timestamp=now_iso(),
                    transaction_id=start.transaction_id,
                    reason="Local",
                    id_tag="GOOD",
                )
            )
            assert stop.id_tag_info["status"] == "Accepted"
            return start.transaction_id

    tx_id = asyncio.run(scenario())
    tx = e2e_db.run(Transaction.objects.get, transaction_id=str(tx_id))
    assert (tx.status, tx.energy_wh, tx.connector_id) == ("Completed", 5000, 1)
    measurands = e2e_db.run(
        lambda: sorted(MeterValue.objects.filter(transaction=tx).values_list("measurand", flat=True))
    )
    assert measurands == ["Energy.Active.Import.Register", "Voltage"]


def test_authorize_invalid_blocked_expired(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            return [
                (await cp.call(call.Authorize(id_tag=tag))).id_tag_info["status"]
                for tag in ("NOBODY", "BLOCKED", "OLD")
            ]

    assert asyncio.run(scenario()) == ["Invalid", "Blocked", "Expired"]


@pytest.mark.parametrize("answer", ["Accepted", "Rejected"])
def test_remote_start_and_stop(e2e_db, cp_id, answer):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            cp.answers["RemoteStartTransaction"] = call_result.RemoteStartTransaction(status=answer)
            result = await command(e2e_db, "E2E-CP", "RemoteStartTransaction", {"idTag": "GOOD", "connectorId": 1})
            assert result.status == "ok" and result.response == {"status": answer}
            assert cp.received[-1] == ("RemoteStartTransaction", {"id_tag": "GOOD", "connector_id": 1})
            if answer == "Rejected":
                return result
            start = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="GOOD", meter_start=0, timestamp=now_iso())
            )
            stop = await command(e2e_db, "E2E-CP", "RemoteStopTransaction", {"transactionId": start.transaction_id})
            assert stop.response == {"status": "Accepted"}
            assert cp.received[-1] == ("RemoteStopTransaction", {"transaction_id": start.transaction_id})
            return result

    result = asyncio.run(scenario())
    record = e2e_db.run(Command.objects.get, pk=result.command.pk)
    assert (record.status, record.response, record.action) == ("ok", {"status": answer}, "RemoteStartTransaction")
    assert record.latency_ms is not None and record.source == "test"


@pytest.mark.parametrize(
    ("action", "payload", "answer"),
    [
        ("Reset", {"type": "Soft"}, {"status": "Accepted"}),
        ("Reset", {"type": "Hard"}, {"status": "Accepted"}),
        ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
        ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, {"status": "Accepted"}),
        ("ClearCache", {}, {"status": "Accepted"}),
        (
            "ReserveNow",
            {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "GOOD", "reservationId": 5},
            {"status": "Accepted"},
        ),
        ("CancelReservation", {"reservationId": 5}, {"status": "Accepted"}),
        (
            "SendLocalList",
            {
                "listVersion": 2,
                "updateType": "Full",
                "localAuthorizationList": [{"idTag": "GOOD", "idTagInfo": {"status": "Accepted"}}],
            },
            {"status": "Accepted"},
        ),
        (
            "SendLocalList",
            {"listVersion": 3, "updateType": "Differential", "localAuthorizationList": [{"idTag": "GOOD"}]},
            {"status": "Accepted"},
        ),
        ("GetLocalListVersion", {}, {"listVersion": 1}),
        (
            "SetChargingProfile",
            {
                "connectorId": 1,
                "csChargingProfiles": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "startSchedule": "2030-01-01T00:00:00Z",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}],
                    },
                },
            },
            {"status": "Accepted"},
        ),
        ("ClearChargingProfile", {"id": 1}, {"status": "Accepted"}),
        ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}, {"status": "Rejected"}),
        ("DataTransfer", {"vendorId": "ACME"}, {"status": "UnknownVendorId"}),
    ],
)
def test_commands(e2e_db, cp_id, action, payload, answer):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            result = await command(e2e_db, "E2E-CP", action, payload)
            assert cp.received and cp.received[-1][0] == action
            return result

    result = asyncio.run(scenario())
    assert (result.status, result.response) == ("ok", answer)


def test_get_and_change_configuration(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            got = await command(e2e_db, "E2E-CP", "GetConfiguration", {})
            assert {k["key"] for k in got.response["configurationKey"]} == {"HeartbeatInterval", "NumberOfConnectors"}
            changed = await command(
                e2e_db, "E2E-CP", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}
            )
            assert changed.response == {"status": "Accepted"}
            cp.answers["ChangeConfiguration"] = call_result.ChangeConfiguration(status="Rejected")
            await command(e2e_db, "E2E-CP", "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "9"})

    asyncio.run(scenario())
    stored = dict(e2e_db.run(lambda: list(ConfigurationKey.objects.values_list("key", "value"))))
    assert stored == {"HeartbeatInterval": "60", "NumberOfConnectors": "2"}


def test_trigger_message_then_charger_reports(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            result = await command(
                e2e_db, "E2E-CP", "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2}
            )
            assert result.response == {"status": "Accepted"}
            assert cp.received[-1] == ("TriggerMessage", {"requested_message": "StatusNotification", "connector_id": 2})
            # What the trigger asked for, sent by the charger after its answer.
            await cp.call(call.StatusNotification(connector_id=2, error_code="NoError", status="Unavailable"))
            return await wait_for(
                lambda: in_thread(
                    e2e_db.schema,
                    lambda: (
                        ChargePoint.objects.get(identity="E2E-CP")
                        .connectors.filter(connector_id=2, status="Unavailable")
                        .exists()
                    ),
                )
            )

    assert asyncio.run(scenario())


def test_firmware_and_diagnostics_flows(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            fw = await command(
                e2e_db,
                "E2E-CP",
                "UpdateFirmware",
                {"location": "https://fw.example/1.bin", "retrieveDate": iso(datetime.now(UTC))},
            )
            assert fw.status == "ok" and fw.response == {}
            for status in ("Downloading", "Downloaded", "Installing", "Installed"):
                await cp.call(call.FirmwareStatusNotification(status=status))
            diag = await command(e2e_db, "E2E-CP", "GetDiagnostics", {"location": "ftp://diag.example/"})
            assert diag.response == {"fileName": "diag.zip"}
            for status in ("Uploading", "Uploaded"):
                await cp.call(call.DiagnosticsStatusNotification(status=status))

    asyncio.run(scenario())
    cp = e2e_db.run(ChargePoint.objects.get, identity="E2E-CP")
    assert (cp.firmware_status, cp.diagnostics_status) == ("Installed", "Uploaded")
    kinds = e2e_db.run(lambda: list(ChargerEvent.objects.order_by("timestamp", "id").values_list("status", flat=True)))
    assert kinds == ["Downloading", "Downloaded", "Installing", "Installed", "Uploading", "Uploaded"]


def test_reservation_used_by_start(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            reserved = await command(
                e2e_db,
                "E2E-CP",
                "ReserveNow",
                {
                    "connectorId": 1,
                    "expiryDate": iso(datetime.now(UTC) + timedelta(hours=1)),
                    "idTag": "GOOD",
                    "reservationId": 77,
                },
            )
            assert reserved.response == {"status": "Accepted"}
            start = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="GOOD", meter_start=0, timestamp=now_iso(), reservation_id=77
                )
            )
            return start.transaction_id

    tx_id = asyncio.run(scenario())
    tx = e2e_db.run(Transaction.objects.get, transaction_id=str(tx_id))
    assert tx.reservation_id == 77
    reservation = e2e_db.run(Reservation.objects.get, reservation_id=77)
    assert (reservation.status, reservation.transaction_id, reservation.id_tag) == ("Used", tx.pk, "GOOD")


def test_reservation_refused_and_cancelled(e2e_db, cp_id):
    expiry = iso(datetime.now(UTC) + timedelta(hours=1))

    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            cp.answers["ReserveNow"] = call_result.ReserveNow(status="Occupied")
            await command(
                e2e_db,
                "E2E-CP",
                "ReserveNow",
                {"connectorId": 1, "expiryDate": expiry, "idTag": "GOOD", "reservationId": 1},
            )
            cp.answers.pop("ReserveNow")
            await command(
                e2e_db,
                "E2E-CP",
                "ReserveNow",
                {"connectorId": 2, "expiryDate": expiry, "idTag": "GOOD", "reservationId": 2},
            )
            await command(e2e_db, "E2E-CP", "CancelReservation", {"reservationId": 2})

    asyncio.run(scenario())
    statuses = e2e_db.run(lambda: dict(Reservation.objects.values_list("reservation_id", "status")))
    assert statuses == {1: "Refused", 2: "Cancelled"}


def test_local_list_version_tracked(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            await command(
                e2e_db,
                "E2E-CP",
                "SendLocalList",
                {"listVersion": 5, "updateType": "Full", "localAuthorizationList": []},
            )
            assert (await in_thread(e2e_db.schema, ChargePoint.objects.get, identity="E2E-CP")).local_list_version == 5
            cp.answers["GetLocalListVersion"] = call_result.GetLocalListVersion(list_version=7)
            await command(e2e_db, "E2E-CP", "GetLocalListVersion", {})

    asyncio.run(scenario())
    assert e2e_db.run(ChargePoint.objects.get, identity="E2E-CP").local_list_version == 7


def test_offline_transactions_replayed_after_reconnect(e2e_db, cp_id):
    t0 = datetime.now(UTC) - timedelta(hours=3)

    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
        # Offline for hours: two sessions happened meanwhile; the charger replays its queue.
        async with connected(e2e_db) as cp:
            ids = []
            for i in range(2):
                started = t0 + timedelta(hours=i)
                start = await cp.call(
                    call.StartTransaction(connector_id=1, id_tag="GOOD", meter_start=i * 1000, timestamp=iso(started))
                )
                await cp.call(
                    call.StopTransaction(
                        meter_stop=i * 1000 + 500,
                        timestamp=iso(started + timedelta(minutes=30)),
                        transaction_id=start.transaction_id,
                        reason="Local",
                    )
                )
                ids.append(start.transaction_id)
            # A retried StartTransaction (lost answer) gets the same id.
            again = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="GOOD", meter_start=0, timestamp=iso(t0))
            )
            assert again.transaction_id == ids[0]
            return ids

    ids = asyncio.run(scenario())
    rows = e2e_db.run(
        lambda: list(Transaction.objects.order_by("started_at").values_list("transaction_id", "started_at", "status"))
    )
    assert [r[0] for r in rows] == [str(i) for i in ids]
    assert rows[0][1] == t0.replace(microsecond=0) and {r[2] for r in rows} == {"Completed"}


def test_command_offline_and_timeout(e2e_db, cp_id):
    async def scenario():
        offline = await command(e2e_db, "E2E-CP", "Reset", {"type": "Soft"})
        assert offline.status == "offline"
        async with connected(e2e_db) as cp:
            await boot(cp)
            cp.delay["Reset"] = 1.4
            slow = await command(e2e_db, "E2E-CP", "Reset", {"type": "Soft"}, timeout=1)
            assert slow.status == "timeout"
            # The connection survives and the next command works.
            cp.delay.clear()
            await asyncio.sleep(0.5)
            assert (await command(e2e_db, "E2E-CP", "ClearCache", {})).status == "ok"
        return offline, slow

    offline, slow = asyncio.run(scenario())
    statuses = e2e_db.run(lambda: dict(Command.objects.values_list("pk", "status")))
    assert statuses[offline.command.pk] == "offline"
    assert statuses[slow.command.pk] == "timeout"


def test_charger_disconnecting_mid_command_answers_offline_at_once(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            cp.delay["Reset"] = 5
            pending = asyncio.ensure_future(command(e2e_db, "E2E-CP", "Reset", {"type": "Hard"}, timeout=10))
            await wait_for(lambda: asyncio.sleep(0, bool(cp.received)))
            started = asyncio.get_running_loop().time()
        result = await pending
        return result, asyncio.get_running_loop().time() - started

    result, waited = asyncio.run(scenario())
    assert result.status == "offline" and waited < 3
    assert e2e_db.run(Command.objects.get, pk=result.command.pk).status == "offline"


def test_charger_callerror_reaches_caller(e2e_db, cp_id):
    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            # The library charger has no handler for GetInstalledCertificateIds: it answers a CALLERROR.
            return await command(
                e2e_db, "E2E-CP", "GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"}
            )

    result = asyncio.run(scenario())
    assert result.status == "error"
    assert result.error["code"] in ("NotImplemented", "NotSupported")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json at all", "FormationViolation"),
        ('[9, "x1", "Heartbeat", {}]', "FormationViolation"),
        ('[2, "x2", "NoSuchAction", {}]', "NotImplemented"),
        ('[2, "x3", "Reset", {"type": "Soft"}]', "NotSupported"),
        ('[2, "x4", "BootNotification", {"chargePointVendor": "V"}]', "ProtocolError"),
        (
            '[2, "x5", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", "status": "Available"}]',
            "TypeConstraintViolation",
        ),
        (
            '[2, "x6", "StatusNotification", {"connectorId": 1, "errorCode": "Oops", "status": "Available"}]',
            "PropertyConstraintViolation",
        ),
    ],
)
def test_malformed_frames_over_the_wire_keep_the_connection(e2e_db, cp_id, frame, code):
    async def scenario():
        # A raw socket: the library charger would refuse to send these.
        async with websockets.connect(
            e2e_db.url("E2E-CP"),
            host="127.0.0.1",
            port=e2e_db.port,
            subprotocols=["ocpp1.6"],
            additional_headers=basic("E2E-CP", PASSWORD),
        ) as ws:
            await ws.send(frame)
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send('[2, "after", "Heartbeat", {}]')
            after = json.loads(await asyncio.wait_for(ws.recv(), 5))
            return reply, after

    reply, after = asyncio.run(scenario())
    assert reply[0] == 4 and reply[2] == code
    assert after[0] == 3 and after[1] == "after"


def test_command_sent_inside_callers_transaction_is_recorded(e2e_db, cp_id):
    """The consumer cannot see a Command row the caller has not committed yet; the caller
    records the answer itself."""
    from django.db import transaction

    def send_in_atomic():
        with transaction.atomic():
            return send_command("E2E-CP", "ClearCache", {})

    async def scenario():
        async with connected(e2e_db) as cp:
            await boot(cp)
            return await in_thread(e2e_db.schema, send_in_atomic)

    result = asyncio.run(scenario())
    record = e2e_db.run(Command.objects.get, pk=result.command.pk)
    assert (record.status, record.response) == ("ok", {"status": "Accepted"})
    assert record.unique_id and record.latency_ms is not None
