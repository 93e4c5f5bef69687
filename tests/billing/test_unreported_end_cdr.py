"""Issue #16: a session closed because its end never came (EVSEReused, NoActivity) gets its
CDR from billing like any other, priced on the energy up to its last reading."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.billing.models import ChargeDetailRecord
from apps.charging.models import Transaction
from apps.charging.services import meter_values_record, transaction_start, transactions_close_inactive
from tests.factories.tariffs import TariffAssignmentFactory

START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def priced(in_tenant_a, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    TariffAssignmentFactory()


def test_session_superseded_on_its_connector_is_billed_to_its_last_reading(
    priced, charger, driver, django_capture_on_commit_callbacks
):
    old, _ = transaction_start(
        charge_point_id=charger.pk, connector_id=1, id_tag="CARD-DORA", meter_start=1000, timestamp=START
    )
    meter_values_record(
        charge_point_id=charger.pk,
        connector_id=1,
        transaction=old,
        meter_values=[{"timestamp": START + dt.timedelta(minutes=40), "sampled_value": [{"value": "11000"}]}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        transaction_start(
            charge_point_id=charger.pk,
            connector_id=1,
            id_tag="CARD-DORA",
            meter_start=11000,
            timestamp=START + dt.timedelta(hours=3),
        )
    cdr = ChargeDetailRecord.objects.get(transaction=old)
    # 10 kWh at 0.30 EUR excl. VAT (the factory's tariff).
    assert cdr.total_energy == Decimal(10) and cdr.total_cost_excl_vat == Decimal("3.00")


def test_session_closed_by_the_sweep_is_billed(priced, charger, driver, django_capture_on_commit_callbacks):
    tx, _ = transaction_start(
        charge_point_id=charger.pk,
        connector_id=1,
        id_tag="CARD-DORA",
        meter_start=0,
        timestamp=timezone.now() - dt.timedelta(days=3),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert transactions_close_inactive() == 1
    assert Transaction.objects.get(pk=tx.pk).stop_reason == "NoActivity"
    assert ChargeDetailRecord.objects.get(transaction=tx).total_energy == 0
