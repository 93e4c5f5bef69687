"""1.6 StartTransaction / StopTransaction services: one statement each for the common case
(an INSERT ... ON CONFLICT for the start, an UPDATE ... RETURNING for the stop), so these
pin what the ORM version guaranteed: every field stored, retries recognised, the after-commit
work (card hold, CDR) queued exactly once."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.charging.models import MeterValue, Reservation, Transaction
from apps.charging.services import id_token_create, transaction_start, transaction_stop
from tests.factories.chargers import ChargePointFactory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr("apps.payments.tasks.preauthorize_transaction.delay", lambda pk: calls.append(("hold", pk)))
    monkeypatch.setattr("apps.billing.tasks.create_cdr.delay", lambda pk: calls.append(("cdr", pk)))
    return calls


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="SS-1")


def _start(cp, **kw):
    args = {"charge_point_id": cp.pk, "connector_id": 1, "id_tag": "CARD-1", "meter_start": 1200, "timestamp": NOW}
    return transaction_start(**{**args, **kw})


def test_start_stores_every_field_and_uses_the_key_as_transaction_id(cp, queued, django_capture_on_commit_callbacks):
    token = id_token_create(id_token="CARD-1")
    with django_capture_on_commit_callbacks(execute=True):
        tx, info = _start(cp, id_tag="card-1")  # CiString: the token is found case-insensitively
    assert info.status == "Accepted"
    stored = Transaction.objects.get()
    assert tx.pk == stored.pk and tx.transaction_id == stored.transaction_id == str(stored.pk)
    assert not tx._state.adding  # a saved instance: save() on it updates, never inserts again
    assert (stored.charge_point_id, stored.evse_id, stored.connector_id) == (cp.pk, 1, 1)
    assert (stored.id_tag, stored.id_token_id, stored.auth_status) == ("card-1", token.pk, "Accepted")
    assert (stored.meter_start, stored.started_at, stored.status) == (1200, NOW, Transaction.Status.ACTIVE)
    assert stored.seq_gaps == [] and stored.offline is False and stored.meter_stop is None
    assert stored.created_at is not None and len(stored.start_key) == 64
    assert queued == [("hold", tx.pk)]


def test_a_retried_start_gets_the_same_transaction_and_no_second_hold(cp, queued, django_capture_on_commit_callbacks):
    id_token_create(id_token="CARD-1")
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = _start(cp)
    with django_capture_on_commit_callbacks(execute=True):
        again, info = _start(cp)
    assert again.pk == first.pk and again.transaction_id == first.transaction_id
    assert info.status == "Accepted"
    assert Transaction.objects.count() == 1 and queued == [("hold", first.pk)]
    # A different start (another meter reading) is a new transaction with a new id.
    second, _ = _start(cp, connector_id=2, meter_start=1300)
    assert second.pk != first.pk and second.transaction_id == str(second.pk)


def test_start_marks_the_reservation_used(cp, queued):
    Reservation.objects.create(
        charge_point=cp, reservation_id=7, connector_id=1, id_tag="CARD-1", expires_at=NOW + timedelta(hours=1)
    )
    tx, _ = _start(cp, reservation_id=7)
    reservation = Reservation.objects.get()
    assert (reservation.status, reservation.transaction_id) == (Reservation.Status.USED, tx.pk)


def test_stop_completes_once_and_queues_one_cdr(cp, queued, django_capture_on_commit_callbacks):
    id_token_create(id_token="CARD-1")
    tx, _ = _start(cp)
    queued.clear()
    data = [{"timestamp": NOW + timedelta(minutes=30), "sampled_value": [{"value": "9100"}]}]
    stop = {
        "charge_point_id": cp.pk,
        "transaction_id": tx.transaction_id,
        "meter_stop": 9100,
        "timestamp": NOW + timedelta(minutes=30),
        "id_tag": "CARD-1",
        "transaction_data": data,
    }
    with django_capture_on_commit_callbacks(execute=True):
        completed, info = transaction_stop(**stop)
    assert completed == tx.pk and info.status == "Accepted"
    tx.refresh_from_db()
    assert (tx.status, tx.meter_stop, tx.stopped_at) == (
        Transaction.Status.COMPLETED,
        9100,
        NOW + timedelta(minutes=30),
    )
    assert (tx.stop_reason, tx.stop_id_tag) == ("Local", "CARD-1")  # 1.6: no reason means Local
    assert list(MeterValue.objects.values_list("transaction_id", "connector_id", "value")) == [(tx.pk, 1, 9100)]
    assert queued == [("cdr", tx.pk)]

    # Retried (our answer was lost): answered, nothing changes, no second CDR.
    with django_capture_on_commit_callbacks(execute=True):
        again, info = transaction_stop(**{**stop, "meter_stop": 9999, "reason": "Remote"})
    assert again is None and info.status == "Accepted"
    tx.refresh_from_db()
    assert (tx.meter_stop, tx.stop_reason) == (9100, "Local")
    assert queued == [("cdr", tx.pk)]


def test_stop_of_an_unknown_or_other_chargers_transaction_changes_nothing(cp, queued):
    other = ChargePointFactory(identity="SS-2")
    tx, _ = _start(cp, id_tag="NOBODY")
    queued.clear()
    for charge_point_id, transaction_id in ((cp.pk, "999999"), (other.pk, tx.transaction_id)):
        completed, info = transaction_stop(
            charge_point_id=charge_point_id, transaction_id=transaction_id, meter_stop=5000, timestamp=NOW
        )
        assert completed is None and info is None
    tx.refresh_from_db()
    assert tx.status == Transaction.Status.ACTIVE and tx.meter_stop is None
    assert queued == []
