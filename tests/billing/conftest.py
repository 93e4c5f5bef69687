"""Billing fixtures: a located charger in tenant A, a driver with a card, tariffs, sessions."""

import datetime as dt

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.charging.services import id_token_create, meter_values_record, transaction_start, transaction_stop
from apps.tariffs.models import TariffAssignment
from apps.tariffs.ocpi import OcpiTariffSerializer
from apps.tariffs.services import tariff_assign, tariff_import_ocpi
from apps.tenants.models import Organization
from tests.factories.chargers import LocationFactory

UTC = dt.UTC
# 17:00-19:00 in Berlin on a winter Thursday: the evening price starts at 18:00 local (17:00 UTC).
START = dt.datetime(2026, 1, 15, 16, 0, tzinfo=UTC)
END = dt.datetime(2026, 1, 15, 18, 0, tzinfo=UTC)

EVENING_TARIFF = {
    "country_code": "DE",
    "party_id": "ALP",
    "id": "EVENING",
    "currency": "EUR",
    "last_updated": "2026-01-01T00:00:00Z",
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": "0.50", "vat": "19", "step_size": 1}],
            "restrictions": {"start_time": "18:00", "end_time": "22:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": "0.30", "vat": "19", "step_size": 1}]},
    ],
}


def import_tariff(data: dict, **assign):
    serializer = OcpiTariffSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    tariff = tariff_import_ocpi(data=serializer.validated_data)
    tariff_assign(tariff=tariff, scope=assign.pop("scope", TariffAssignment.Scope.ORGANIZATION), **assign)
    return tariff


@pytest.fixture
def legal(tenant_a):
    Organization.objects.filter(pk=tenant_a.pk).update(
        legal_name="Alpha Charging GmbH",
        vat_number="DE123456789",
        registration_number="HRB 424242",
        address="Hauptstrasse 1",
        postal_code="10115",
        city="Berlin",
        support_email="billing@alpha.example",
        primary_colour="#aa3300",
    )


@pytest.fixture
def charger(tenant_a, make_charge_point):
    with schema_context(tenant_a.schema_name):
        site = LocationFactory(name="Market square", address="Marktplatz 1", postal_code="10117", city="Berlin")
    return make_charge_point(identity="BILL-CP", location=site)


@pytest.fixture
def driver(tenant_a, make_user):
    user = make_user(tenant_a, role=Role.DRIVER, email="dora@example.com", full_name="Dora Driver")
    with schema_context(tenant_a.schema_name):
        id_token_create(id_token="CARD-DORA", owner=user)
    return user


def run_session(
    cp, *, start=START, end=END, meter_start=1000, meter_stop=17000, readings=(), id_tag="CARD-DORA", connector_id=1
):
    """A completed transaction; `readings` are (time, register Wh) between start and stop."""
    tx, _ = transaction_start(
        charge_point_id=cp.pk, connector_id=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=start
    )
    if readings:
        meter_values_record(
            charge_point_id=cp.pk,
            connector_id=connector_id,
            transaction=tx,
            meter_values=[{"timestamp": t, "sampled_value": [{"value": str(wh)}]} for t, wh in readings],
        )
    transaction_stop(charge_point_id=cp.pk, transaction_id=tx.transaction_id, meter_stop=meter_stop, timestamp=end)
    tx.refresh_from_db()
    return tx


@pytest.fixture
def admin_user_a(tenant_a, make_user):
    return make_user(tenant_a, role=Role.OPERATOR_ADMIN, email="boss@alpha.example")
