"""The missing-CDR sweep: sessions whose billing.create_cdr publish was lost after commit get
their record (and receipt) from beat, within a 24-hour window and after a grace period."""

import datetime as dt
import logging

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.billing.models import ChargeDetailRecord, Invoice
from apps.billing.services import cdr_correct, cdr_create_for_transaction, cdr_create_missing
from apps.billing.services import cdrs as cdr_services
from apps.billing.tasks import create_missing_cdrs
from apps.chargers.services import charge_point_create
from tests.billing.conftest import EVENING_TARIFF, import_tariff, run_session


def session_ended(charger, ago: dt.timedelta, **kwargs):
    """A completed session of one hour that stopped `ago` before now. Its create_cdr task
    never runs: the test's transaction is never committed, like a publish that was lost."""
    end = timezone.now() - ago
    return run_session(charger, start=end - dt.timedelta(hours=1), end=end, readings=[], **kwargs)


@pytest.mark.django_db
def test_sweep_creates_the_lost_cdr_once_inside_the_window_only(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    lost = session_ended(charger, dt.timedelta(hours=2))
    too_old = session_ended(charger, dt.timedelta(hours=25))
    in_flight = session_ended(charger, dt.timedelta(minutes=1))  # its own task is probably still running
    assert ChargeDetailRecord.objects.count() == 0

    assert cdr_create_missing() == (1, 0)
    cdr = ChargeDetailRecord.objects.get()
    assert cdr.transaction == lost and cdr.total_energy == 16 and cdr.total_cost_excl_vat > 0
    # The receipt the lost task would have issued.
    assert Invoice.objects.filter(cdr=cdr, kind="invoice").count() == 1
    assert not ChargeDetailRecord.objects.filter(transaction__in=[too_old, in_flight]).exists()

    # A second run (the next beat, or two overlapping) adds nothing.
    assert cdr_create_missing() == (0, 0)
    assert ChargeDetailRecord.objects.get() == cdr and Invoice.objects.count() == 1


@pytest.mark.django_db
def test_sweep_leaves_transactions_that_have_records_alone(in_tenant_a, charger, driver):
    import_tariff(EVENING_TARIFF)
    billed = session_ended(charger, dt.timedelta(hours=1))
    cdr = cdr_create_for_transaction(transaction=billed, issue_receipt=False)
    corrected = session_ended(charger, dt.timedelta(hours=3))
    fixed = cdr_correct(cdr=cdr_create_for_transaction(transaction=corrected), reason="Late meter values")
    before = {c.pk: c.last_updated for c in ChargeDetailRecord.objects.all()}
    invoices = Invoice.objects.count()

    assert cdr_create_missing() == (0, 0)
    assert {c.pk: c.last_updated for c in ChargeDetailRecord.objects.all()} == before
    assert cdr.pk in before and fixed.pk in before and len(before) == 3
    assert Invoice.objects.count() == invoices
    assert not Invoice.objects.filter(cdr=cdr).exists()  # no receipt added to the one made without


@pytest.mark.django_db
def test_one_failing_transaction_does_not_stop_the_others(in_tenant_a, charger, driver, monkeypatch, caplog):
    import_tariff(EVENING_TARIFF)
    bad = session_ended(charger, dt.timedelta(hours=3))
    good = session_ended(charger, dt.timedelta(hours=2))
    build = cdr_services._build

    def failing_build(tx, **kwargs):
        if tx.pk == bad.pk:
            raise RuntimeError("pricing exploded")
        return build(tx, **kwargs)

    monkeypatch.setattr(cdr_services, "_build", failing_build)
    with caplog.at_level(logging.WARNING, logger="apps.billing.services.cdrs"):
        assert cdr_create_missing() == (1, 1)
    assert list(ChargeDetailRecord.objects.values_list("transaction_id", flat=True)) == [good.pk]
    assert f"missing CDR of transaction {bad.pk} in org_alpha could not be created" in caplog.text
    assert "pricing exploded" in caplog.text and "1 created, 1 failed" in caplog.text

    # Once the cause is fixed, the next sweep bills it.
    monkeypatch.setattr(cdr_services, "_build", build)
    assert cdr_create_missing() == (1, 0)
    assert ChargeDetailRecord.objects.filter(transaction=bad).count() == 1


@pytest.mark.django_db
def test_beat_task_sweeps_every_organisation(tenant_a, tenant_b, charger, driver):
    with schema_context(tenant_a.schema_name):
        lost_a = session_ended(charger, dt.timedelta(hours=1))
    with schema_context(tenant_b.schema_name):
        charger_b = charge_point_create(identity="BILL-CP-B", password="c" * 20)
        lost_b = session_ended(charger_b, dt.timedelta(hours=1), id_tag="")
    connection.set_schema_to_public()  # as beat runs it

    for _ in range(2):  # the second sweep finds nothing left to bill
        create_missing_cdrs()  # one task per organisation schema (eager here)
        with schema_context(tenant_a.schema_name):
            assert list(ChargeDetailRecord.objects.values_list("transaction_id", flat=True)) == [lost_a.pk]
        with schema_context(tenant_b.schema_name):
            assert list(ChargeDetailRecord.objects.values_list("transaction_id", flat=True)) == [lost_b.pk]


def test_beat_runs_the_sweep_every_quarter_hour():
    from config.celery import app

    entry = app.conf.beat_schedule["billing-create-missing-cdrs"]
    assert entry["task"] == "billing.create_missing_cdrs" and "billing.create_missing_cdrs" in app.tasks
    assert entry["schedule"] == 900.0
