"""OCPP 2.0.1 / 2.1 blocks E, H, I, J: TransactionEvent (seqNo, late and duplicate delivery,
idToken on any event, meter values), MeterValues, reservations and remote-start answers --
for both versions."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.chargers.services import charge_point_create
from apps.charging.models import MeterValue, RemoteStart, Reservation, Transaction, TransactionEvent
from apps.charging.services import id_token_create
from apps.csms.handlers.v2 import V21Session, V201Session
from tests.csms.harness import Harness, ts

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    cp = charge_point_create(identity="CP-TX2", password="a-good-charger-password")
    id_token_create(id_token="GOOD", type="ISO14443")
    id_token_create(id_token="FRIEND", type="ISO14443", group_id="FAMILY")
    id_token_create(id_token="SPOUSE", type="ISO14443", group_id="FAMILY")
    return Harness(cp, request.param)


def energy(wh, context="Sample.Periodic", at=T0, **extra):
    return {
        "timestamp": ts(at),
        "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register", "context": context, **extra}],
    }


def event(event_type, seq, *, tx="TX-1", at=T0, trigger="Authorized", **extra):
    info = {"transactionId": tx, **extra.pop("info", {})}
    return {
        "eventType": event_type,
        "timestamp": ts(at),
        "triggerReason": trigger,
        "seqNo": seq,
        "transactionInfo": info,
        **extra,
    }


TOKEN = {"idToken": "GOOD", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}


def test_started_updated_ended_makes_a_completed_transaction(h):
    a = h.ok(
        "TransactionEvent",
        event(
            "Started",
            0,
            idToken=TOKEN,
            evse=EVSE,
            meterValue=[energy(1000, "Transaction.Begin")],
            info={"chargingState": "Charging"},
        ),
    )
    assert a["idTokenInfo"]["status"] == "Accepted"
    tx = Transaction.objects.get(charge_point=h.cp, transaction_id="TX-1")
    assert (tx.status, tx.evse_id, tx.connector_id, tx.id_tag, tx.meter_start) == ("Active", 1, 1, "GOOD", 1000)
    assert tx.charging_state == "Charging" and tx.is_v2
    a = h.ok(
        "TransactionEvent",
        event(
            "Updated",
            1,
            at=T0 + timedelta(minutes=30),
            trigger="MeterValuePeriodic",
            meterValue=[energy(5000, at=T0 + timedelta(minutes=30))],
        ),
    )
    assert a == {}  # no idToken: no idTokenInfo; no totalCost before the end
    a = h.ok(
        "TransactionEvent",
        event(
            "Ended",
            2,
            at=T0 + timedelta(hours=1),
            trigger="EVDeparted",
            info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"},
            meterValue=[energy(9000, "Transaction.End", at=T0 + timedelta(hours=1))],
        ),
    )
    tx.refresh_from_db()
    assert (tx.status, tx.meter_start, tx.meter_stop, tx.energy_wh) == ("Completed", 1000, 9000, 8000)
    assert (tx.started_at, tx.stopped_at, tx.stop_reason) == (T0, T0 + timedelta(hours=1), "EVDisconnected")
    assert tx.seq_gaps == [] and tx.charging_state == "Idle"
    assert list(tx.events.values_list("seq_no", "event_type")) == [(0, "Started"), (1, "Updated"), (2, "Ended")]
    assert MeterValue.objects.filter(transaction=tx).count() == 3


def test_ended_goes_through_the_shared_stop_and_prices_the_session(h, published, django_capture_on_commit_callbacks):
    from apps.charging.events import TransactionEnded

    with django_capture_on_commit_callbacks(execute=True):
        h.ok(
            "TransactionEvent",
            event("Started", 0, idToken=TOKEN, evse=EVSE, meterValue=[energy(0, "Transaction.Begin")]),
        )
        h.ok(
            "TransactionEvent",
            event(
                "Ended",
                1,
                at=T0 + timedelta(minutes=5),
                trigger="StopAuthorized",
                idToken=TOKEN,
                meterValue=[energy(2000, "Transaction.End", at=T0 + timedelta(minutes=5))],
            ),
        )
    tx = Transaction.objects.get(transaction_id="TX-1")
    ended = [e for e in published if isinstance(e, TransactionEnded)]
    assert [e.transaction_pk for e in ended] == [tx.pk] and ended[0].reason == "Local"
    assert tx.stop_reason == "Local" and tx.stop_id_tag == "GOOD"


def test_duplicate_seq_no_is_answered_the_same_and_stored_once(h):
    payload = event("Started", 0, idToken=TOKEN, evse=EVSE, meterValue=[energy(100)])
    first = h.ok("TransactionEvent", payload)
    again = h.ok("TransactionEvent", payload)
    assert first == again
    assert TransactionEvent.objects.filter(transaction__transaction_id="TX-1").count() == 1
    assert MeterValue.objects.count() == 1


def test_seq_gap_is_recorded(h):
    h.ok("TransactionEvent", event("Started", 0, idToken=TOKEN, evse=EVSE))
    h.ok("TransactionEvent", event("Updated", 1, trigger="MeterValuePeriodic"))
    h.ok("TransactionEvent", event("Updated", 4, trigger="MeterValuePeriodic"))
    assert Transaction.objects.get(transaction_id="TX-1").seq_gaps == [2, 3]
    h.ok("TransactionEvent", event("Updated", 3, trigger="MeterValuePeriodic"))  # arrives late
    assert Transaction.objects.get(transaction_id="TX-1").seq_gaps == [2]


def test_new_transaction_may_restart_seq_no_at_zero(h):
    for tx in ("A", "B"):
        h.ok("TransactionEvent", event("Started", 0, tx=tx, idToken=TOKEN, evse=EVSE))
        h.ok("TransactionEvent", event("Ended", 1, tx=tx, trigger="EVDeparted"))
    assert Transaction.objects.filter(status="Completed").count() == 2
    assert not Transaction.objects.exclude(seq_gaps=[]).exists()


def test_station_wide_counter_is_not_a_gap(h):
    # One counter for all transactions: tx A gets 10 and 12, tx B (another EVSE) 11.
    h.ok("TransactionEvent", event("Started", 10, tx="A", idToken=TOKEN, evse=EVSE))
    h.ok("TransactionEvent", event("Started", 11, tx="B", evse={"id": 2, "connectorId": 1}, trigger="CablePluggedIn"))
    h.ok("TransactionEvent", event("Updated", 12, tx="A", trigger="MeterValuePeriodic"))
    assert Transaction.objects.get(transaction_id="A").seq_gaps == []


def test_ended_before_started_still_makes_a_correct_transaction(h):
    end = T0 + timedelta(hours=2)
    a = h.ok(
        "TransactionEvent",
        event(
            "Ended",
            2,
            at=end,
            trigger="EVDeparted",
            offline=True,
            info={"stoppedReason": "EVDisconnected"},
            meterValue=[energy(7000, "Transaction.End", at=end)],
        ),
    )
    assert a == {}
    tx = Transaction.objects.get(transaction_id="TX-1")
    assert tx.status == "Completed" and tx.offline and tx.stopped_at == end
    h.ok(
        "TransactionEvent",
        event("Started", 0, offline=True, idToken=TOKEN, evse=EVSE, meterValue=[energy(1000, "Transaction.Begin")]),
    )
    h.ok(
        "TransactionEvent",
        event(
            "Updated",
            1,
            at=T0 + timedelta(hours=1),
            offline=True,
            trigger="ChargingStateChanged",
            info={"chargingState": "SuspendedEV"},
        ),
    )
    tx.refresh_from_db()
    assert (tx.started_at, tx.stopped_at, tx.meter_start, tx.meter_stop) == (T0, end, 1000, 7000)
    assert (tx.id_tag, tx.auth_status, tx.status, tx.evse_id) == ("GOOD", "Accepted", "Completed", 1)
    assert tx.seq_gaps == [] and tx.charging_state == ""  # the late Updated is not the newest state


def test_transaction_authorised_later_gets_id_token_info(h):
    a = h.ok(
        "TransactionEvent",
        event("Started", 0, trigger="CablePluggedIn", evse=EVSE, info={"chargingState": "EVConnected"}),
    )
    assert "idTokenInfo" not in a
    tx = Transaction.objects.get(transaction_id="TX-1")
    assert tx.id_tag == "" and tx.auth_status == ""
    a = h.ok("TransactionEvent", event("Updated", 1, trigger="Authorized", idToken=TOKEN))
    assert a["idTokenInfo"]["status"] == "Accepted"
    tx.refresh_from_db()
    assert (tx.id_tag, tx.auth_status, tx.id_token.id_token) == ("GOOD", "Accepted", "GOOD")


def test_unknown_and_blocked_tokens(h):
    id_token_create(id_token="BAD", status="Blocked")
    a = h.ok("TransactionEvent", event("Started", 0, idToken={"idToken": "NOPE", "type": "ISO14443"}, evse=EVSE))
    assert a["idTokenInfo"]["status"] == "Unknown"
    a = h.ok(
        "TransactionEvent",
        event("Started", 0, tx="TX-2", idToken={"idToken": "BAD", "type": "ISO14443"}, evse={"id": 2}),
    )
    assert a["idTokenInfo"]["status"] == "Blocked"


def test_concurrent_tx_for_a_token_already_charging(h):
    h.ok("TransactionEvent", event("Started", 0, idToken=TOKEN, evse=EVSE))
    a = h.ok("TransactionEvent", event("Started", 0, tx="TX-2", idToken=TOKEN, evse={"id": 2, "connectorId": 1}))
    assert a["idTokenInfo"]["status"] == "ConcurrentTx"


def test_group_member_stops_a_transaction_started_by_another_card(h):
    h.ok("TransactionEvent", event("Started", 0, idToken={"idToken": "FRIEND", "type": "ISO14443"}, evse=EVSE))
    a = h.ok(
        "TransactionEvent",
        event(
            "Ended",
            1,
            trigger="StopAuthorized",
            idToken={"idToken": "SPOUSE", "type": "ISO14443"},
            info={"stoppedReason": "Local"},
        ),
    )
    assert a["idTokenInfo"] == {"status": "Accepted", "groupIdToken": {"idToken": "FAMILY", "type": "Central"}}
    tx = Transaction.objects.get(transaction_id="TX-1")
    assert (tx.status, tx.id_tag, tx.stop_id_tag) == ("Completed", "FRIEND", "SPOUSE")


def test_master_pass_stops_but_never_starts(h):
    from apps.charging.selectors import charging_settings

    s = charging_settings()
    s.master_pass_group_id = "POLICE"
    s.save()
    id_token_create(id_token="MASTER", group_id="police")
    master = {"idToken": "MASTER", "type": "ISO14443"}
    auth = h.ok("Authorize", {"idToken": master})
    assert auth["idTokenInfo"] == {"status": "Accepted", "groupIdToken": {"idToken": "police", "type": "Central"}}
    h.ok("TransactionEvent", event("Started", 0, idToken=TOKEN, evse=EVSE))
    a = h.ok(
        "TransactionEvent",
        event("Ended", 1, trigger="StopAuthorized", idToken=master, info={"stoppedReason": "MasterPass"}),
    )
    assert a["idTokenInfo"]["status"] == "Accepted"
    tx = Transaction.objects.get(transaction_id="TX-1")
    assert (tx.status, tx.stop_reason, tx.stop_id_tag, tx.id_tag) == ("Completed", "MasterPass", "MASTER", "GOOD")
    a = h.ok("TransactionEvent", event("Started", 0, tx="TX-M", idToken=master, evse=EVSE))
    assert a["idTokenInfo"]["status"] == "Invalid"


def test_signed_and_multiplied_meter_values_are_kept(h):
    signed = {"signedMeterData": "b2NtZg==", "signingMethod": "ECDSA", "encodingMethod": "OCMF", "publicKey": "cGs="}
    mv = {
        "timestamp": ts(T0),
        "sampledValue": [
            {
                "value": 1.5,
                "measurand": "Energy.Active.Import.Register",
                "context": "Transaction.Begin",
                "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
                "signedMeterValue": signed,
            },
            {
                "value": 23,
                "measurand": "Voltage",
                "phase": "L1-N",
                "unitOfMeasure": {"unit": "V", "multiplier": 1},
                "location": "Outlet",
            },
            {"value": 16.2, "measurand": "Current.Import", "phase": "L2", "unitOfMeasure": {"unit": "A"}},
        ],
    }
    h.ok("TransactionEvent", event("Started", 0, idToken=TOKEN, evse=EVSE, meterValue=[mv]))
    tx = Transaction.objects.get(transaction_id="TX-1")
    assert tx.meter_start == 1500
    rows = {r.measurand: r for r in MeterValue.objects.filter(transaction=tx)}
    assert rows["Energy.Active.Import.Register"].signed == signed
    assert rows["Energy.Active.Import.Register"].unit == "kWh"
    assert (rows["Voltage"].value, rows["Voltage"].phase) == (Decimal("230"), "L1-N")
    assert (rows["Current.Import"].value, rows["Current.Import"].unit) == (Decimal("16.2"), "A")


def test_meter_values_outside_transactions(h):
    h.ok("MeterValues", {"evseId": 0, "meterValue": [energy(123456, "Sample.Clock")]})
    h.ok("MeterValues", {"evseId": 2, "meterValue": [energy(50, "Sample.Clock")]})
    rows = MeterValue.objects.filter(charge_point=h.cp).order_by("evse_id")
    assert [(r.evse_id, r.transaction_id, r.value, r.context) for r in rows] == [
        (0, None, Decimal("123456"), "Sample.Clock"),
        (2, None, Decimal("50"), "Sample.Clock"),
    ]


def test_negative_seq_no_is_a_property_violation(h):
    assert h.error("TransactionEvent", event("Started", -1))[0] == "PropertyConstraintViolation"


def test_pending_station_may_not_send_transaction_events(in_tenant_a):
    cp = charge_point_create(identity="CP-PEND", password="a-good-charger-password")
    h = Harness(cp, V201Session, status="Pending")
    assert h.error("TransactionEvent", event("Started", 0))[0] == "SecurityError"
    assert h.error("Authorize", {"idToken": TOKEN})[0] == "SecurityError"


def test_remote_start_id_links_the_transaction(h):
    h.answered(
        "RequestStartTransaction",
        {"idToken": TOKEN, "remoteStartId": 42, "evseId": 1},
        {"status": "Accepted"},
    )
    request = RemoteStart.objects.get(charge_point=h.cp, remote_start_id=42)
    assert request.charger_status == "Accepted" and request.transaction is None
    h.ok(
        "TransactionEvent",
        event("Started", 0, trigger="RemoteStart", idToken=TOKEN, evse=EVSE, info={"remoteStartId": 42}),
    )
    tx = Transaction.objects.get(transaction_id="TX-1")
    request.refresh_from_db()
    assert tx.remote_start_id == 42 and request.transaction == tx


def test_reservations(h):
    expiry = ts(T0 + timedelta(hours=1))
    h.answered("ReserveNow", {"id": 7, "expiryDateTime": expiry, "idToken": TOKEN, "evseId": 1}, {"status": "Accepted"})
    r = Reservation.objects.get(charge_point=h.cp, reservation_id=7)
    assert (r.status, r.evse_id, r.id_tag, r.id_token_type) == ("Active", 1, "GOOD", "ISO14443")
    h.ok("TransactionEvent", event("Started", 0, idToken=TOKEN, evse=EVSE, reservationId=7))
    r.refresh_from_db()
    assert r.status == "Used" and r.transaction.transaction_id == "TX-1"

    h.answered(
        "ReserveNow",
        {"id": 8, "expiryDateTime": expiry, "idToken": TOKEN, "connectorType": "cType2"},
        {"status": "Accepted"},
    )
    h.ok("ReservationStatusUpdate", {"reservationId": 8, "reservationUpdateStatus": "Expired"})
    assert Reservation.objects.get(reservation_id=8).status == "Expired"
    h.answered("ReserveNow", {"id": 9, "expiryDateTime": expiry, "idToken": TOKEN}, {"status": "Accepted"})
    h.answered("CancelReservation", {"reservationId": 9}, {"status": "Accepted"})
    assert Reservation.objects.get(reservation_id=9).status == "Cancelled"
    h.answered("ReserveNow", {"id": 10, "expiryDateTime": expiry, "idToken": TOKEN}, {"status": "Occupied"})
    assert Reservation.objects.get(reservation_id=10).status == "Refused"


# --------------------------------------------------------------------------- a lost Ended (issue #16)


def test_new_transaction_on_the_same_evse_closes_the_one_whose_ended_was_lost(
    h, published, django_capture_on_commit_callbacks
):
    h.ok(
        "TransactionEvent",
        event("Started", 0, idToken=TOKEN, evse=EVSE, meterValue=[energy(1000, "Transaction.Begin")]),
    )
    at = T0 + timedelta(minutes=30)
    h.ok("TransactionEvent", event("Updated", 1, at=at, trigger="MeterValuePeriodic", meterValue=[energy(4000, at=at)]))
    # The Ended event of TX-1 was lost; the same card starts a new transaction on EVSE 1.
    with django_capture_on_commit_callbacks(execute=True):
        a = h.ok(
            "TransactionEvent", event("Started", 0, tx="TX-2", at=T0 + timedelta(hours=2), idToken=TOKEN, evse=EVSE)
        )
    assert a["idTokenInfo"]["status"] == "Accepted"
    old = Transaction.objects.get(charge_point=h.cp, transaction_id="TX-1")
    assert (old.status, old.stop_reason, old.stop_missing) == ("Completed", "EVSEReused", True)
    assert (old.meter_stop, old.stopped_at) == (4000, at)
    assert Transaction.objects.get(charge_point=h.cp, transaction_id="TX-2").status == "Active"
    ended = [e for e in published if type(e).__name__ == "TransactionEnded"]
    assert [(e.transaction_pk, e.reason) for e in ended] == [(old.pk, "EVSEReused")]


def test_first_event_of_an_unknown_transaction_on_the_evse_closes_the_old_one(h):
    h.ok("TransactionEvent", event("Started", 0, idToken=TOKEN, evse=EVSE))
    later = T0 + timedelta(hours=1)
    # The station's Started of TX-2 was lost too: its first event we see is an Updated.
    a = h.ok("TransactionEvent", event("Updated", 3, tx="TX-2", at=later, idToken=TOKEN, evse=EVSE))
    assert a["idTokenInfo"]["status"] == "Accepted"
    old = Transaction.objects.get(charge_point=h.cp, transaction_id="TX-1")
    assert (old.status, old.meter_stop, old.stopped_at) == ("Completed", 0, later)


def test_late_ended_of_a_closed_transaction_takes_over(h):
    h.ok(
        "TransactionEvent",
        event("Started", 0, idToken=TOKEN, evse=EVSE, meterValue=[energy(1000, "Transaction.Begin")]),
    )
    h.ok("TransactionEvent", event("Started", 0, tx="TX-2", at=T0 + timedelta(hours=2), idToken=TOKEN, evse=EVSE))
    end = T0 + timedelta(minutes=45)
    h.ok(
        "TransactionEvent",
        event(
            "Ended",
            1,
            at=end,
            trigger="EVDeparted",
            info={"stoppedReason": "EVDisconnected"},
            meterValue=[energy(6000, "Transaction.End", at=end)],
        ),
    )
    old = Transaction.objects.get(charge_point=h.cp, transaction_id="TX-1")
    assert (old.stopped_at, old.meter_stop, old.stop_reason, old.stop_missing) == (end, 6000, "EVDisconnected", False)
