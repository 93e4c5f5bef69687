"""Tariff pages: list, OCPI import, preview calculator in the organisation's time, assign."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.tariffs.models import Tariff, TariffAssignment

TWO_PRICES = {
    "country_code": "DE",
    "party_id": "EVZ",
    "id": "DAYNIGHT",
    "currency": "EUR",
    "last_updated": "2026-01-01T00:00:00Z",
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": "0.20", "vat": 0, "step_size": 1}],
            "restrictions": {"start_time": "18:00", "end_time": "06:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": "0.40", "vat": 0, "step_size": 1}]},
    ],
}


@pytest.fixture
def admin_client(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


@pytest.mark.django_db
def test_import_preview_and_assign(tenant_a, admin_client):
    response = admin_client.post("/tariffs/import/", {"name": "Day/night", "ocpi": json.dumps(TWO_PRICES)})
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        tariff = Tariff.objects.get(ocpi_id="DAYNIGHT")
    page = admin_client.get(response.url).content.decode()
    assert "Day/night" in page and "Not assigned: no session uses it." in page
    # 10 kWh over one hour from 17:30 local (Europe/Berlin for this organisation): half at
    # the day price, half at night: 5 × 0.40 + 5 × 0.20 = 3.00.
    preview = admin_client.get(
        f"/tariffs/{tariff.pk}/",
        {"start": "2026-03-02T17:30", "minutes": 60, "energy_kwh": "10", "max_power_kw": "11", "parking_minutes": 0},
    ).content.decode()
    assert "data-total-incl>3.00 EUR<" in preview
    assert (
        admin_client.post(f"/tariffs/{tariff.pk}/assign/", {"scope": "organization", "priority": 0}).status_code == 302
    )
    with schema_context(tenant_a.schema_name):
        assert TariffAssignment.objects.filter(tariff=tariff, scope="organization").exists()
    assert "Whole organisation" in admin_client.get("/tariffs/").content.decode()


@pytest.mark.django_db
def test_bad_ocpi_is_explained_and_nothing_created(tenant_a, admin_client):
    bad = admin_client.post("/tariffs/import/", {"ocpi": '{"currency": "EUR"'}).content.decode()
    assert "Not valid JSON" in bad
    wrong = admin_client.post("/tariffs/import/", {"ocpi": json.dumps({**TWO_PRICES, "currency": "EURO"})})
    assert wrong.status_code == 200 and "currency" in wrong.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Tariff.objects.exists()


@pytest.mark.django_db
def test_staff_read_but_only_admins_manage(tenant_a, tenant_b, make_user, login):
    staff = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    assert staff.get("/tariffs/").status_code == 200
    assert staff.get("/tariffs/import/").status_code == 403
    driver = login(tenant_a, make_user(tenant_a, role=Role.DRIVER))
    assert driver.get("/tariffs/").status_code == 403
    with schema_context(tenant_a.schema_name):
        from apps.tariffs.services import tariff_import_ocpi

        tariff = tariff_import_ocpi(data=TWO_PRICES)
    other = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert other.get(f"/tariffs/{tariff.pk}/").status_code == 404


@pytest.mark.django_db
def test_preview_periods_are_shown_in_the_organisations_time(tenant_a, admin_client):
    admin_client.post("/tariffs/import/", {"name": "Day/night", "ocpi": json.dumps(TWO_PRICES)})
    with schema_context(tenant_a.schema_name):
        tariff = Tariff.objects.get(ocpi_id="DAYNIGHT")
    page = admin_client.get(
        f"/tariffs/{tariff.pk}/", {"start": "2026-03-02T17:30", "minutes": 60, "energy_kwh": "10", "parking_minutes": 0}
    ).content.decode()
    # Europe/Berlin (UTC+1 in March): the periods start at 17:30 and 18:00 local, not 16:30 UTC.
    assert "Mon 17:30" in page and "Mon 18:00" in page and "16:30" not in page


@pytest.mark.django_db
def test_admin_edits_a_tariff_from_its_page(tenant_a, admin_client):
    admin_client.post("/tariffs/import/", {"name": "Day/night", "ocpi": json.dumps(TWO_PRICES)})
    with schema_context(tenant_a.schema_name):
        tariff = Tariff.objects.get(ocpi_id="DAYNIGHT")
    page = admin_client.get(f"/tariffs/{tariff.pk}/").content.decode()
    link = f"/admin/tariffs/tariff/{tariff.pk}/change/"
    assert link in page
    assert admin_client.get(link).status_code == 200
