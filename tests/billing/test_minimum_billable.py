"""The minimum billable session (BillingSettings): a failed start delivers nothing and costs
nothing, while a real session is priced as its tariff says (#16 item 13)."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.billing.models import BillingSettings
from apps.billing.services import cdr_create_for_transaction
from tests.billing.conftest import START, import_tariff, run_session

# A session fee, 0.10 EUR per started minute of parking and 0.50 EUR/kWh: the shape that made
# a one-second 0 kWh session cost money.
FEE_TARIFF = {
    "country_code": "DE",
    "party_id": "ALP",
    "id": "FEES",
    "currency": "EUR",
    "last_updated": "2026-01-01T00:00:00Z",
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": "0.50", "vat": "0", "step_size": 1},
                {"type": "ENERGY", "price": "0.50", "vat": "0", "step_size": 1},
                {"type": "PARKING_TIME", "price": "6.00", "vat": "0", "step_size": 60},
            ]
        }
    ],
}


@pytest.fixture
def fees(in_tenant_a):
    return import_tariff(FEE_TARIFF)


def _cdr(cp, *, seconds, wh, n=0):
    start = START + dt.timedelta(hours=n)
    tx = run_session(cp, start=start, end=start + dt.timedelta(seconds=seconds), meter_start=1000, meter_stop=1000 + wh)
    return cdr_create_for_transaction(transaction=tx, issue_receipt=False)


@pytest.mark.django_db
def test_a_session_that_delivered_nothing_is_free_by_default(fees, charger, driver):
    cdr = _cdr(charger, seconds=1, wh=0)
    assert cdr.total_cost_incl_vat == 0 and cdr.total_energy == 0
    assert "Free: below the minimum billable session (it delivered no energy)" in cdr.pricing_notes
    assert cdr.total_time + cdr.total_parking_time > 0  # still measured


@pytest.mark.django_db
def test_a_real_session_is_still_priced(fees, charger, driver):
    cdr = _cdr(charger, seconds=3600, wh=10_000)
    assert cdr.total_cost_incl_vat == Decimal("5.50")  # 0.50 fee + 10 kWh x 0.50
    assert "Free" not in cdr.pricing_notes


@pytest.mark.django_db
def test_the_organisation_sets_energy_and_duration_minimums(fees, charger, driver):
    BillingSettings.objects.create(min_billable_energy_kwh=Decimal("0.2"), min_billable_minutes=2)
    small = _cdr(charger, seconds=600, wh=150, n=0)
    assert small.total_cost_incl_vat == 0 and "0.15 kWh, at most 0.2 kWh" in small.pricing_notes
    short = _cdr(charger, seconds=90, wh=1_000, n=1)
    assert short.total_cost_incl_vat == 0 and "less than 2 minutes" in short.pricing_notes
    billed = _cdr(charger, seconds=600, wh=1_000, n=2)
    assert billed.total_cost_incl_vat == Decimal("1.00")


@pytest.mark.django_db
def test_pages_show_amounts_in_the_currencys_minor_unit(tenant_a, fees, charger, driver, make_user, login):
    from apps.accounts.models import Role
    from apps.billing.models import ChargeDetailRecord

    cdr = _cdr(charger, seconds=3600, wh=10_000)
    assert cdr.total_cost_incl_vat == Decimal("5.5000")  # four decimals kept in the data
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    for url in (f"/billing/cdrs/{cdr.pk}/", "/billing/cdrs/", f"/sessions/{cdr.transaction_id}/"):
        page = client.get(url).content.decode()
        assert "5.50" in page and "5.5000" not in page, url
    assert ChargeDetailRecord.objects.get(pk=cdr.pk).total_cost_incl_vat == Decimal("5.5000")
