"""Issue #16: a transaction whose end the station never reported (a lost StopTransaction or
Ended) must not stay active for ever and lock the driver's card. The sweep closes those
that have been silent for ChargingSettings.unreported_end_hours; the portal shows them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint, Connector, ConnectorStatusHistory
from apps.charging import tasks
from apps.charging.models import ChargingSettings, Transaction
from apps.charging.schedule import BEAT_SCHEDULE
from apps.charging.services import transaction_start, transactions_close_inactive
from tests.factories.chargers import ChargePointFactory
from tests.factories.charging import TransactionFactory, meter_values_add


@pytest.fixture
def now():
    return timezone.now()


def test_silent_transaction_is_closed_from_its_last_reading(
    in_tenant_a, now, published, django_capture_on_commit_callbacks
):
    tx = TransactionFactory(started_at=now - timedelta(hours=60))
    (reading,) = meter_values_add(tx, 1, energy_wh=7000)
    # Its one reading is 30 h after the start, 30 h ago: more than 48 h of silence? No.
    assert transactions_close_inactive(now=now) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert transactions_close_inactive(now=now + timedelta(hours=19)) == 1
    tx.refresh_from_db()
    assert (tx.status, tx.stop_reason, tx.stop_missing) == ("Completed", "NoActivity", True)
    assert (tx.meter_stop, tx.stopped_at) == (int(reading.value), reading.timestamp)
    ended = [e for e in published if type(e).__name__ == "TransactionEnded"]
    assert [(e.transaction_pk, e.reason) for e in ended] == [(tx.pk, "NoActivity")]


def test_charger_still_reporting_the_connector_in_use_keeps_a_session_without_readings(in_tenant_a, now):
    """1.6 chargers that send only Start/StopTransaction: the charger's own activity (online,
    heartbeats, the connector still occupied) is the transaction's."""
    cp = ChargePointFactory(online=True, connectors=1, connectors__status="Charging")
    ChargePoint.objects.filter(pk=cp.pk).update(last_seen=now - timedelta(minutes=2))
    tx = TransactionFactory(charge_point=cp, started_at=now - timedelta(hours=70))
    assert transactions_close_inactive(now=now) == 0
    # The connector went Available (its StopTransaction lost): the session ends with that message.
    went_free = now - timedelta(hours=50)
    Connector.objects.filter(charge_point=cp).update(status="Available", status_at=went_free)
    ConnectorStatusHistory.objects.create(
        charge_point=cp, evse_id=1, connector_id=1, status="Available", timestamp=went_free
    )
    assert transactions_close_inactive(now=now) == 1
    tx.refresh_from_db()
    assert (tx.status, tx.meter_stop, tx.stopped_at) == ("Completed", tx.meter_start, went_free)


def test_threshold_is_the_organisations_and_zero_means_never(in_tenant_a, now):
    tx = TransactionFactory(started_at=now - timedelta(hours=10))
    assert ChargingSettings._meta.get_field("unreported_end_hours").default == 48
    ChargingSettings.objects.update_or_create(pk=1, defaults={"unreported_end_hours": 0})
    assert transactions_close_inactive(now=now + timedelta(days=30)) == 0
    ChargingSettings.objects.filter(pk=1).update(unreported_end_hours=8)
    assert transactions_close_inactive(now=now) == 1
    assert Transaction.objects.get(pk=tx.pk).stopped_at == tx.started_at


def test_sweep_is_a_beat_job_fanned_out_per_organisation(monkeypatch):
    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "charging.close_inactive_transactions")
    assert entry["schedule"] > 0
    queued = []
    monkeypatch.setattr(tasks, "fan_out", lambda task, **kw: queued.append(task) or 3)
    assert tasks.close_inactive_transactions() == 3
    assert queued == [tasks.close_inactive_transactions_in_schema]


def test_portal_shows_a_session_closed_without_a_stop(tenant_a, make_user, login, now):
    with schema_context(tenant_a.schema_name):
        tx = TransactionFactory(started_at=now - timedelta(hours=60))
        transactions_close_inactive(now=now)
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    for url in ("/sessions/", f"/sessions/{tx.pk}/"):
        page = client.get(url).content.decode()
        assert "NoActivity" in page and "end not reported" in page


def test_a_1_6_start_pays_no_statement_for_the_rule_when_nothing_is_left_open(in_tenant_a, now):
    """The OCPP hot path: the card lookup and the INSERT, which also says whether an older
    transaction is still active on the EVSE; the closing UPDATE only runs when one is."""
    cp = ChargePointFactory()
    TransactionFactory(charge_point=cp, started_at=now - timedelta(hours=2), status=Transaction.Status.COMPLETED)
    with CaptureQueriesContext(connection) as ctx:
        transaction_start(charge_point_id=cp.pk, connector_id=1, id_tag="NOBODY", meter_start=0, timestamp=now)
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 2 and not any(s.startswith("UPDATE") for s in sql), sql

    left_open = TransactionFactory(charge_point=cp, started_at=now - timedelta(hours=1))
    with CaptureQueriesContext(connection) as ctx:
        transaction_start(
            charge_point_id=cp.pk, connector_id=1, id_tag="NOBODY", meter_start=0, timestamp=now + timedelta(minutes=1)
        )
    assert sum(q["sql"].startswith("UPDATE") for q in ctx.captured_queries) == 1
    left_open.refresh_from_db()
    assert left_open.status == Transaction.Status.COMPLETED and left_open.stop_missing
