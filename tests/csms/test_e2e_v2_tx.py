"""End to end, OCPP 2.0.1 transactions (after the OCTT E/C/F test cases): a real `ocpp`
library v201 station over a real websocket to the live server; commands go from this test
process through the Redis channel layer to the server process holding the socket."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v201 import call

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging.models import RemoteStart, Transaction, TransactionEvent
from apps.charging.services import id_token_create
from tests.csms.e2e2 import BackgroundStation, new_transaction_id, station

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-station-pass-01"
IDENTITY = "E2E-201"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def cp_id(e2e_db):
    e2e_db.run(charge_point_create, identity=IDENTITY, password=PASSWORD)
    e2e_db.run(id_token_create, id_token="GOOD-201")
    e2e_db.run(id_token_create, id_token="OTHER-201")
    return IDENTITY


def _tx(transaction_id):
    return Transaction.objects.filter(transaction_id=transaction_id).first()


def _cdr_of(transaction_id):
    from apps.billing.models import ChargeDetailRecord

    return ChargeDetailRecord.objects.filter(transaction__transaction_id=transaction_id).first()


def test_remote_start_from_the_api_console_to_a_priced_transaction(e2e_db, cp_id, api_client):
    api = api_client(Role.TECHNICIAN)
    with BackgroundStation(e2e_db, IDENTITY, password=PASSWORD) as cp:
        response = api.post(
            f"/api/v1/charge-points/{IDENTITY}/ocpp/RequestStartTransaction",
            {"idToken": {"idToken": "GOOD-201", "type": "ISO14443"}, "remoteStartId": 77, "evseId": 1},
        )
        assert response.status_code == 200, response.content
        assert response.json()["response"] == {"status": "Accepted"}
        request = cp.commands("RequestStartTransaction")[-1]
        assert request["remote_start_id"] == 77 and request["evse_id"] == 1

        tx_id = new_transaction_id()
        started = cp.sync(
            cp.tx_event(
                "Started",
                tx_id,
                "RemoteStart",
                id_token="GOOD-201",
                evse=(1, 1),
                energy_wh=1000,
                context="Transaction.Begin",
                info={"remoteStartId": 77, "chargingState": "Charging"},
            ),
        )
        assert started.id_token_info["status"] == "Accepted"
        cp.sync(cp.tx_event("Updated", tx_id, "MeterValuePeriodic", energy_wh=4000))
        ended = cp.sync(
            cp.tx_event(
                "Ended",
                tx_id,
                "RemoteStop",
                energy_wh=6500,
                context="Transaction.End",
                info={"stoppedReason": "Remote", "chargingState": "Idle"},
            ),
        )
        assert ended.id_token_info is None

    tx = e2e_db.run(_tx, transaction_id=tx_id)
    assert (tx.status, tx.meter_start, tx.meter_stop, tx.energy_wh) == ("Completed", 1000, 6500, 5500)
    assert (tx.remote_start_id, tx.stop_reason, tx.evse_id, tx.id_tag) == (77, "Remote", 1, "GOOD-201")
    link = e2e_db.run(lambda: RemoteStart.objects.get(remote_start_id=77))
    assert link.transaction_id == tx.pk and link.charger_status == "Accepted"
    cdr = e2e_db.run(_cdr_of, transaction_id=tx_id)
    assert cdr is not None


def test_offline_transaction_delivered_late(e2e_db, cp_id):
    """E04/E12: a transaction run while offline arrives after reconnection with offline=true,
    its events out of order (Ended first); the result is the same transaction."""
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)

    async def scenario():
        async with station(e2e_db, IDENTITY, password=PASSWORD) as cp:
            await cp.boot()
            tx_id = new_transaction_id()
            await cp.tx_event(
                "Ended",
                tx_id,
                "EVDeparted",
                seq_no=2,
                timestamp=iso(t0 + timedelta(hours=1)),
                energy_wh=3000,
                context="Transaction.End",
                offline=True,
                info={"stoppedReason": "EVDisconnected"},
            )
            await cp.tx_event(
                "Started",
                tx_id,
                "Authorized",
                seq_no=0,
                timestamp=iso(t0),
                energy_wh=500,
                context="Transaction.Begin",
                id_token="GOOD-201",
                evse=(1, 1),
                offline=True,
            )
            await cp.tx_event(
                "Updated",
                tx_id,
                "MeterValuePeriodic",
                seq_no=1,
                timestamp=iso(t0 + timedelta(minutes=30)),
                energy_wh=1800,
                offline=True,
            )
            return tx_id

    tx_id = asyncio.run(scenario())
    tx = e2e_db.run(_tx, transaction_id=tx_id)
    assert tx.offline and tx.status == "Completed" and tx.seq_gaps == []
    assert (tx.started_at, tx.stopped_at) == (t0, t0 + timedelta(hours=1))
    assert (tx.meter_start, tx.meter_stop, tx.id_tag, tx.auth_status) == (500, 3000, "GOOD-201", "Accepted")
    events = e2e_db.run(lambda: list(TransactionEvent.objects.filter(transaction=tx).values_list("seq_no", "offline")))
    assert events == [(0, True), (1, True), (2, True)]


def test_seq_gap_is_detected(e2e_db, cp_id):
    async def scenario():
        async with station(e2e_db, IDENTITY, password=PASSWORD) as cp:
            await cp.boot()
            tx_id = new_transaction_id()
            await cp.tx_event("Started", tx_id, "Authorized", id_token="GOOD-201", evse=(1, 1), energy_wh=0)
            await cp.tx_event("Updated", tx_id, "MeterValuePeriodic", seq_no=3, energy_wh=100)  # 1 and 2 lost
            await cp.tx_event("Ended", tx_id, "EVDeparted", seq_no=4, energy_wh=200, context="Transaction.End")
            return tx_id

    tx_id = asyncio.run(scenario())
    tx = e2e_db.run(_tx, transaction_id=tx_id)
    assert tx.seq_gaps == [1, 2] and tx.status == "Completed" and tx.energy_wh == 200


def test_master_pass_stops_a_transaction(e2e_db, cp_id):
    from apps.charging.selectors import charging_settings

    def configure(group):
        s = charging_settings()
        s.master_pass_group_id = group
        s.save()

    e2e_db.run(configure, group="MASTERS")
    e2e_db.run(id_token_create, id_token="POLICE-1", group_id="MASTERS")
    try:

        async def scenario():
            async with station(e2e_db, IDENTITY, password=PASSWORD) as cp:
                await cp.boot()
                tx_id = new_transaction_id()
                await cp.tx_event("Started", tx_id, "Authorized", id_token="GOOD-201", evse=(1, 1), energy_wh=0)
                auth = await cp.authorize("POLICE-1")
                assert auth.id_token_info["status"] == "Accepted"
                assert auth.id_token_info["group_id_token"]["id_token"] == "MASTERS"
                ended = await cp.tx_event(
                    "Ended",
                    tx_id,
                    "StopAuthorized",
                    id_token="POLICE-1",
                    energy_wh=800,
                    context="Transaction.End",
                    info={"stoppedReason": "MasterPass"},
                )
                assert ended.id_token_info["status"] == "Accepted"
                return tx_id

        tx_id = asyncio.run(scenario())
    finally:
        e2e_db.run(configure, group="")
    tx = e2e_db.run(_tx, transaction_id=tx_id)
    assert (tx.status, tx.stop_reason, tx.id_tag, tx.stop_id_tag) == ("Completed", "MasterPass", "GOOD-201", "POLICE-1")


def test_pending_station_is_refused_authorize(e2e_db, cp_id):
    from ocpp.exceptions import SecurityError

    e2e_db.run(lambda: ChargePoint.objects.filter(identity=IDENTITY).update(registration_status="Pending"))

    async def scenario():
        async with station(e2e_db, IDENTITY, password=PASSWORD) as cp:
            boot = await cp.boot()
            assert boot.status == "Pending"
            with pytest.raises(SecurityError):
                await cp.call(call.Authorize(id_token={"id_token": "GOOD-201", "type": "ISO14443"}), suppress=False)

    asyncio.run(scenario())


def test_remote_start_and_stop_through_the_shared_service(e2e_db, cp_id):
    """apps.charging.remote picks RequestStart/StopTransaction for a 2.x station."""
    from apps.charging.remote import remote_start, remote_stop

    with BackgroundStation(e2e_db, IDENTITY, password=PASSWORD) as cp:

        def start():
            station_row = ChargePoint.objects.get(identity=IDENTITY)
            return remote_start(charge_point=station_row, id_tag="GOOD-201", evse_id=2, source="test", timeout=5)

        result = e2e_db.run(start)
        assert result.status == "ok" and result.response == {"status": "Accepted"}
        sent = cp.commands("RequestStartTransaction")[-1]
        assert sent["id_token"] == {"id_token": "GOOD-201", "type": "ISO14443"} and sent["evse_id"] == 2
        tx_id = new_transaction_id()
        cp.sync(
            cp.tx_event(
                "Started",
                tx_id,
                "RemoteStart",
                id_token="GOOD-201",
                evse=(2, 1),
                info={"remoteStartId": sent["remote_start_id"]},
            ),
        )

        def stop():
            return remote_stop(transaction=Transaction.objects.get(transaction_id=tx_id), source="test", timeout=5)

        assert e2e_db.run(stop).status == "ok"
        assert cp.commands("RequestStopTransaction")[-1] == {"transaction_id": tx_id}
    request = e2e_db.run(
        lambda: RemoteStart.objects.select_related("transaction").get(remote_start_id=sent["remote_start_id"])
    )
    assert request.transaction.transaction_id == tx_id and request.source == "test"


def test_duplicate_event_after_reconnect_is_answered_the_same(e2e_db, cp_id):
    async def scenario():
        async with station(e2e_db, IDENTITY, password=PASSWORD) as cp:
            await cp.boot()
            tx_id = new_transaction_id()
            at = iso(datetime.now(UTC))
            first = await cp.tx_event(
                "Started", tx_id, "Authorized", seq_no=0, timestamp=at, id_token="GOOD-201", evse=(1, 1)
            )
        async with station(e2e_db, IDENTITY, password=PASSWORD) as cp:
            await cp.boot()
            again = await cp.tx_event(
                "Started", tx_id, "Authorized", seq_no=0, timestamp=at, id_token="GOOD-201", evse=(1, 1)
            )
        return tx_id, first, again

    tx_id, first, again = asyncio.run(scenario())
    assert first.id_token_info == again.id_token_info
    count = e2e_db.run(lambda: TransactionEvent.objects.filter(transaction__transaction_id=tx_id).count())
    assert count == 1
