"""A session start asks apps.payments to hold a card-on-file pre-authorisation, after commit:
at StartTransaction (1.6) and when a 2.x transaction first gets its driver's token, which
may be in a later TransactionEvent than Started."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.chargers.services import charge_point_create
from apps.charging.services import id_token_create, transaction_start
from apps.charging.transaction_events import transaction_event_record

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr("apps.payments.tasks.preauthorize_transaction.delay", lambda pk: calls.append(pk))
    return calls


def test_accepted_16_start_queues_a_hold_after_commit(in_tenant_a, queued, django_capture_on_commit_callbacks):
    cp = charge_point_create(identity="HOOK-16", password="a-good-charger-password")
    id_token_create(id_token="CARD-OK")
    with django_capture_on_commit_callbacks(execute=True):
        tx, info = transaction_start(
            charge_point_id=cp.pk, connector_id=1, id_tag="CARD-OK", meter_start=0, timestamp=NOW
        )
        assert queued == []  # nothing before the commit
    assert info.status == "Accepted" and queued == [tx.pk]
    with django_capture_on_commit_callbacks(execute=True):
        transaction_start(charge_point_id=cp.pk, connector_id=2, id_tag="NOBODY", meter_start=0, timestamp=NOW)
    assert queued == [tx.pk]  # an unknown card is not held


def test_2x_token_arriving_later_queues_the_hold_once(in_tenant_a, queued, django_capture_on_commit_callbacks):
    cp = charge_point_create(identity="HOOK-2", password="a-good-charger-password", protocol_version="ocpp2.0.1")
    id_token_create(id_token="CARD-2X")
    common = {"charge_point_id": cp.pk, "transaction_info": {"transaction_id": "t-hook"}, "evse": {"id": 1}}
    with django_capture_on_commit_callbacks(execute=True):
        transaction_event_record(
            event_type="Started", timestamp=NOW, trigger_reason="CablePluggedIn", seq_no=0, payload={"s": 0}, **common
        )
    assert queued == []
    token = {"id_token": "CARD-2X", "type": "ISO14443"}
    with django_capture_on_commit_callbacks(execute=True):
        outcome = transaction_event_record(
            event_type="Updated",
            timestamp=NOW + timedelta(seconds=30),
            trigger_reason="Authorized",
            seq_no=1,
            payload={"s": 1},
            id_token=token,
            **common,
        )
    assert queued == [outcome.transaction.pk]
    with django_capture_on_commit_callbacks(execute=True):
        transaction_event_record(
            event_type="Updated",
            timestamp=NOW + timedelta(seconds=60),
            trigger_reason="MeterValuePeriodic",
            seq_no=2,
            payload={"s": 2},
            id_token=token,
            **common,
        )
    assert len(queued) == 1
