"""Wallet fixtures: tenant A's charger and driver (from the billing fixtures), a flat tariff
and priced sessions whose CDR costs a round amount."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.billing.services import cdr_create_for_transaction
from tests.billing.conftest import START, charger, driver, import_tariff, run_session  # noqa: F401

# 0.50 EUR per kWh, no VAT: a session of n kWh costs n / 2 EUR.
FLAT_TARIFF = {
    "country_code": "DE",
    "party_id": "ALP",
    "id": "FLAT",
    "currency": "EUR",
    "last_updated": "2026-01-01T00:00:00Z",
    "elements": [{"price_components": [{"type": "ENERGY", "price": "0.50", "vat": "0", "step_size": 1}]}],
}


@pytest.fixture
def flat_tariff(tenant_a):
    with schema_context(tenant_a.schema_name):
        return import_tariff(FLAT_TARIFF)


def priced_cdr(cp, *, kwh: int, n: int = 0, id_tag: str = "CARD-DORA"):
    """A completed session of `kwh` (the n-th of the test: distinct start times) and its CDR."""
    start = START + dt.timedelta(hours=3 * n)
    tx = run_session(
        cp, start=start, end=start + dt.timedelta(hours=1), meter_start=0, meter_stop=kwh * 1000, id_tag=id_tag
    )
    return cdr_create_for_transaction(transaction=tx, issue_receipt=False)


def in_thread(schema: str, fn):
    """Committed ORM work on a connection of its own (the test's connection is in a transaction)."""

    def run():
        try:
            with schema_context(schema):
                return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def fake_http(monkeypatch):
    from apps.payments import gateways
    from tests.payments.conftest import FakeAdyenHttp, FakeStripeHttp

    fakes = {"stripe": FakeStripeHttp(), "adyen": FakeAdyenHttp()}
    monkeypatch.setattr(gateways, "make_http_client", lambda provider: fakes[provider])
    return fakes
