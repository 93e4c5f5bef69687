"""OCPP 2.x charging services: totalCost and CostUpdated (block I), the remote start/stop
switch (F), local lists in the 2.x shape with ItemsPerMessage splitting (D)."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging import locallists
from apps.charging.locallists import local_auth_list_create, local_list_push
from apps.charging.models import LocalListState, RemoteStart, Transaction
from apps.charging.remote import remote_start, remote_stop, remote_stop_requested_since
from apps.charging.services import id_token_create
from apps.charging.transaction_events import cost_updates_send, transaction_event_record
from tests.billing.conftest import EVENING_TARIFF, import_tariff

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def station(in_tenant_a):
    cp = charge_point_create(identity="V2-SVC", password="a-charger-password-01")
    ChargePoint.objects.filter(pk=cp.pk).update(online=True, protocol_version="ocpp2.0.1")
    cp.refresh_from_db()
    return cp


def record(cp, event_type, seq, *, tx="T-1", at=T0, wh=None, context="Sample.Periodic", **extra):
    meter = []
    if wh is not None:
        meter = [
            {
                "timestamp": at,
                "sampled_value": [
                    {
                        "value": str(wh),
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                        "context": context,
                        "location": "Outlet",
                        "phase": "",
                        "format": "Raw",
                    }
                ],
            }
        ]
    info = {"transaction_id": tx, **extra.pop("info", {})}
    return transaction_event_record(
        charge_point_id=cp.pk,
        event_type=event_type,
        timestamp=at,
        trigger_reason=extra.pop("trigger", "Authorized"),
        seq_no=seq,
        transaction_info=info,
        payload={"seq": seq, "type": event_type, "tx": tx, "at": str(at)},
        meter_values=meter,
        **extra,
    )


def test_total_cost_only_in_the_ended_answer_when_a_tariff_applies(station):
    id_token_create(id_token="CARD")
    started = record(
        station,
        "Started",
        0,
        wh=0,
        context="Transaction.Begin",
        id_token={"id_token": "CARD", "type": "ISO14443"},
        evse={"id": 1, "connector_id": 1},
    )
    assert started.total_cost is None
    ended = record(station, "Ended", 1, at=T0 + timedelta(hours=1), wh=10000, context="Transaction.End")
    assert ended.total_cost is None  # no tariff: not free either, so absent

    import_tariff(EVENING_TARIFF)
    later = T0 + timedelta(hours=2)  # (a reading at the same instant on the same EVSE would be a duplicate)
    record(
        station, "Started", 0, tx="T-2", at=later, wh=0, context="Transaction.Begin", evse={"id": 1, "connector_id": 1}
    )
    ended = record(station, "Ended", 1, tx="T-2", at=later + timedelta(hours=1), wh=10000, context="Transaction.End")
    assert float(ended.total_cost) == pytest.approx(3.57)  # 10 kWh at 0.30 + 19 % VAT


def test_cost_updated_for_running_transactions(station, settings, command_bus, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    import_tariff(EVENING_TARIFF)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    record(station, "Started", 0, at=start, wh=0, context="Transaction.Begin", evse={"id": 1, "connector_id": 1})
    record(station, "Updated", 1, at=start + timedelta(minutes=30), wh=5000, trigger="MeterValuePeriodic")
    now = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert cost_updates_send(now=now) == 1
        assert cost_updates_send(now=now + timedelta(minutes=1)) == 0  # not due yet
    sent = [c for c in command_bus.sent if c["action"] == "CostUpdated"]
    assert len(sent) == 1 and sent[0]["transactionId"] == "T-1" and sent[0]["totalCost"] > 0
    assert cost_updates_send(now=now + timedelta(minutes=6)) == 1


def test_remote_start_and_stop_pick_the_version(station, command_bus):
    id_token_create(id_token="APP000001", type="Central")
    result = remote_start(charge_point=station, id_tag="APP000001", evse_id=2, source="qr")
    assert result.status == "ok"
    first = command_bus.sent[-1]
    assert first["action"] == "RequestStartTransaction"
    assert first["idToken"] == {"idToken": "APP000001", "type": "Central"} and first["evseId"] == 2
    remote_start(charge_point=station, id_tag="APP000001", source="qr")
    assert command_bus.sent[-1]["remoteStartId"] == first["remoteStartId"] + 1 and "evseId" not in command_bus.sent[-1]
    assert RemoteStart.objects.get(remote_start_id=first["remoteStartId"]).charger_status == "Accepted"

    record(station, "Started", 0, evse={"id": 2, "connector_id": 1}, info={"remote_start_id": first["remoteStartId"]})
    tx = Transaction.objects.get(transaction_id="T-1")
    remote_stop(transaction=tx, source="wallet")
    assert command_bus.sent[-1] == {"action": "RequestStopTransaction", "transactionId": "T-1"}
    assert remote_stop_requested_since(transaction=tx, since=T0 - timedelta(days=3650))

    ChargePoint.objects.filter(pk=station.pk).update(protocol_version="ocpp1.6")
    station.refresh_from_db()
    remote_start(charge_point=station, id_tag="APP000001", connector_id=1)
    assert command_bus.sent[-1] == {"action": "RemoteStartTransaction", "connectorId": 1, "idTag": "APP000001"}


def test_answer_with_transaction_id_links_at_once(station):
    from apps.charging.remote import remote_start_answered

    record(station, "Started", 0, trigger="CablePluggedIn", evse={"id": 1, "connector_id": 1})
    remote_start_answered(
        charge_point_id=station.pk,
        payload={"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 5},
        answer={"status": "Accepted", "transactionId": "T-1"},
    )
    assert Transaction.objects.get(transaction_id="T-1").remote_start_id == 5


def test_local_list_for_a_2x_station_is_split_by_items_per_message(station, command_bus, monkeypatch):
    monkeypatch.setattr(locallists, "V2_DEFAULT_ITEMS", 2)
    for tag in ("A1", "B2", "C3"):
        id_token_create(id_token=tag, group_id="FLEET" if tag == "A1" else "")
    id_token_create(id_token="BLK", status="Blocked")
    local_auth_list_create(name="All", charge_points=[station])
    result = local_list_push(charge_point=station)
    assert result.ok, result.message
    sent = [c for c in command_bus.sent if c["action"] == "SendLocalList"]
    assert [(c["updateType"], c["versionNumber"], len(c["localAuthorizationList"])) for c in sent] == [
        ("Full", 1, 2),
        ("Differential", 2, 2),
    ]
    assert sent[0]["localAuthorizationList"][0] == {
        "idToken": {"idToken": "A1", "type": "ISO14443"},
        "idTokenInfo": {"status": "Accepted", "groupIdToken": {"idToken": "FLEET", "type": "Central"}},
    }
    state = LocalListState.objects.get(charge_point=station)
    assert state.version == 2 and not state.needs_full and set(state.entries) == {"A1", "B2", "BLK", "C3"}

    from apps.charging.models import IdToken
    from apps.charging.services import id_token_update

    id_token_update(token=IdToken.objects.get(id_token="B2"), status="Blocked")
    IdToken.objects.filter(id_token="C3").delete()
    locallists.local_lists_token_changed()
    command_bus.sent.clear()
    assert local_list_push(charge_point=station).ok
    assert command_bus.sent == [
        {
            "action": "SendLocalList",
            "versionNumber": 3,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idToken": {"idToken": "B2", "type": "ISO14443"}, "idTokenInfo": {"status": "Blocked"}},
                {"idToken": {"idToken": "C3", "type": "ISO14443"}},
            ],
        }
    ]


def test_get_local_list_version_of_a_2x_station(station, command_bus):
    command_bus.by_action["GetLocalListVersion"] = [{"versionNumber": 0}]
    assert locallists._ask_version(station) == 0
