import json
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.tariffs.models import Tariff
from tests.tariffs import ocpi_examples as ex

pytestmark = pytest.mark.django_db

ALL_EXAMPLES = [name for name in dir(ex) if name.isupper()]
EVENING = {
    "name": "Evening surcharge",
    "currency": "EUR",
    "elements": [
        {
            "price_components": [{"type": "TIME", "price": "2.00", "vat": "19", "step_size": 60}],
            "restrictions": {"end_time": "18:00"},
        },
        {"price_components": [{"type": "TIME", "price": "3.00", "vat": "19", "step_size": 60}]},
    ],
}


@pytest.fixture
def admin_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


@pytest.fixture
def admin_b(tenant_b, make_user, login):
    return login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))


def post(client, url, body):
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_ocpi_import_then_export_round_trips_exactly(admin_a, name):
    text = getattr(ex, name)
    created = post(admin_a, "/api/v1/tariffs/import-ocpi/", text)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert isinstance(body["id"], int) and body["ocpi_id"] == json.loads(text)["id"]
    exported = admin_a.get(f"/api/v1/tariffs/{body['id']}/ocpi/")
    assert exported.status_code == 200
    assert exported.json() == json.loads(text)


def test_imported_decimals_are_exact_and_listed_as_strings(admin_a):
    body = post(admin_a, "/api/v1/tariffs/import-ocpi/", ex.ALT_TEXT).json()
    assert body["elements"][0]["price_components"][0] == {
        "type": "TIME",
        "price": "1.9",
        "vat": "5.2",
        "step_size": 300,
    }
    assert body["tariff_alt_text"][1] == {"language": "nl", "text": "2.00 euro p/uur inclusief BTW."}
    assert body["type"] == "AD_HOC_PAYMENT" and body["last_updated"] == "2015-06-29T20:39:09Z"


def test_energy_mix_round_trips(admin_a):
    # OCPI 2.2.1 examples/location_energymix_example_complete.json
    mix = {
        "is_green_energy": False,
        "energy_sources": [
            {"source": "GENERAL_GREEN", "percentage": 35.9},
            {"source": "GAS", "percentage": 6.3},
            {"source": "COAL", "percentage": 33.2},
            {"source": "GENERAL_FOSSIL", "percentage": 2.9},
            {"source": "NUCLEAR", "percentage": 21.7},
        ],
        "environ_impact": [
            {"category": "NUCLEAR_WASTE", "amount": 0.0006},
            {"category": "CARBON_DIOXIDE", "amount": 372},
        ],
        "supplier_name": "E.ON Energy Deutschland",
        "energy_product_name": "E.ON DirektStrom eco",
    }
    tariff = json.loads(ex.SIMPLE_025_KWH) | {"energy_mix": mix}
    created = post(admin_a, "/api/v1/tariffs/import-ocpi/", tariff)
    assert created.status_code == 201, created.json()
    assert admin_a.get(f"/api/v1/tariffs/{created.json()['id']}/ocpi/").json() == tariff


def test_duplicate_ocpi_identity_is_refused(admin_a):
    assert post(admin_a, "/api/v1/tariffs/import-ocpi/", ex.COMPLEX).status_code == 201
    again = post(admin_a, "/api/v1/tariffs/import-ocpi/", ex.COMPLEX)
    assert again.status_code == 400
    assert again.json()["code"] == "invalid" and "id" in again.json()["errors"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"elements": []}, "elements"),
        ({"currency": "XYZ"}, "currency"),
        ({"type": "CHEAP"}, "type"),
        ({"elements": [{"price_components": [{"type": "ENERGY", "price": -1, "step_size": 1}]}]}, "elements"),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
                        "restrictions": {"start_time": "25:00"},
                    }
                ]
            },
            "elements",
        ),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}],
                        "restrictions": {"reservation": "RESERVATION"},
                    }
                ]
            },
            "elements",
        ),
    ],
)
def test_import_validation_errors_use_the_error_format(admin_a, change, field):
    data = json.loads(ex.SIMPLE_025_KWH) | change
    response = post(admin_a, "/api/v1/tariffs/import-ocpi/", data)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input." and body["code"] == "invalid" and field in body["errors"]


def test_malformed_json_is_a_400(admin_a):
    response = post(admin_a, "/api/v1/tariffs/import-ocpi/", "{not json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_crud(admin_a):
    created = post(admin_a, "/api/v1/tariffs/", EVENING)
    assert created.status_code == 201, created.json()
    tariff = created.json()
    assert tariff["elements"][0]["restrictions"] == {"end_time": "18:00"}
    assert len(tariff["ocpi_id"]) == 36 and tariff["idle_fee"] is None
    url = f"/api/v1/tariffs/{tariff['id']}/"
    listed = admin_a.get("/api/v1/tariffs/?search=Evening").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == tariff["id"]

    patched = admin_a.patch(
        url,
        json.dumps({"name": "Evening", "idle_fee": {"price_per_hour": "6", "grace_minutes": 15}}),
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["name"] == "Evening" and patched.json()["elements"] == tariff["elements"]
    assert patched.json()["idle_fee"] == {"price_per_hour": "6", "vat": None, "grace_minutes": 15}

    replaced = admin_a.put(url, json.dumps(EVENING | {"currency": "JPY"}), content_type="application/json")
    assert replaced.status_code == 200 and replaced.json()["currency"] == "JPY"
    assert admin_a.delete(url).status_code == 204
    assert admin_a.get(url).status_code == 404


def test_staff_read_and_estimate_but_only_admins_write(tenant_a, make_user, login, admin_a):
    tariff_id = post(admin_a, "/api/v1/tariffs/", EVENING).json()["id"]
    staff = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert staff.get(f"/api/v1/tariffs/{tariff_id}/").status_code == 200
    assert staff.get(f"/api/v1/tariffs/{tariff_id}/ocpi/").status_code == 200
    estimate = {"start": "2025-01-10T10:00:00Z", "end": "2025-01-10T11:00:00Z", "energy_kwh": "10"}
    assert post(staff, f"/api/v1/tariffs/{tariff_id}/estimate/", estimate).status_code == 200
    refused = post(staff, "/api/v1/tariffs/", EVENING)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert post(staff, "/api/v1/tariffs/import-ocpi/", ex.COMPLEX).status_code == 403
    assert staff.delete(f"/api/v1/tariffs/{tariff_id}/").status_code == 403
    driver = login(tenant_a, make_user(tenant_a, role=Role.DRIVER))
    assert driver.get("/api/v1/tariffs/").status_code == 403


def test_estimate_brief_example_defaults_to_the_organisations_time_zone(admin_a, tenant_a):
    assert tenant_a.timezone == "Europe/Berlin"
    tariff_id = post(admin_a, "/api/v1/tariffs/", EVENING).json()["id"]
    body = {
        "start": "2025-01-10T16:15:00Z",  # 17:15 in Berlin
        "end": "2025-01-10T17:15:00Z",
        "energy_kwh": "30",
        "max_power_kw": "22",
        "parking_minutes": 10,
    }
    response = post(admin_a, f"/api/v1/tariffs/{tariff_id}/estimate/", body)
    assert response.status_code == 200, response.json()
    result = response.json()
    # 45 min before 18:00 at 2.00 + 5 min after at 3.00 = 1.75; parking is free here.
    assert result["currency"] == "EUR" and result["time_zone"] == "Europe/Berlin"
    assert (result["total_excl_vat"], result["total_incl_vat"]) == ("1.75", "2.08")
    assert [p["kind"] for p in result["periods"]] == ["CHARGING", "CHARGING", "PARKING"]
    first = result["periods"][0]
    assert first["start_date_time"] == "2025-01-10T16:15:00Z"
    energy, time = first["dimensions"]
    assert energy == {
        "type": "ENERGY",
        "volume": "27",
        "billed_volume": "27",
        "price": None,
        "vat": None,
        "excl_vat": "0",
        "incl_vat": "0",
        "tariff_element": None,
        "source": "tariff",
    }  # not priced by this tariff, but reported like a CDR does
    assert time == {
        "type": "TIME",
        "volume": "0.75",
        "billed_volume": "0.75",
        "price": "2",
        "vat": "19",
        "excl_vat": "1.5",
        "incl_vat": "1.785",
        "tariff_element": 0,
        "source": "tariff",
    }
    assert Decimal(result["total_energy_kwh"]) == 30

    in_utc = post(admin_a, f"/api/v1/tariffs/{tariff_id}/estimate/", body | {"time_zone": "UTC"}).json()
    assert in_utc["total_excl_vat"] == "1.67"  # all 50 minutes before 18:00 UTC


def test_estimate_in_a_three_decimal_currency(admin_a):
    kwd = json.loads(ex.SIMPLE_025_KWH) | {"id": "kwd", "currency": "KWD"}
    kwd["elements"][0]["price_components"][0]["price"] = 0.0375
    tariff_id = post(admin_a, "/api/v1/tariffs/import-ocpi/", kwd).json()["id"]
    body = {"start": "2025-01-10T10:00:00+03:00", "end": "2025-01-10T11:00:00+03:00", "energy_kwh": "10.5"}
    result = post(admin_a, f"/api/v1/tariffs/{tariff_id}/estimate/", body | {"time_zone": "Asia/Kuwait"}).json()
    assert (result["currency"], result["total_excl_vat"], result["total_incl_vat"]) == ("KWD", "0.394", "0.433")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"end": "2025-01-10T09:00:00Z"}, "end"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"energy_kwh": "-1"}, "energy_kwh"),
        ({"energy_kwh": "lots"}, "energy_kwh"),
        ({"parking_minutes": 120}, "parking_minutes"),
        ({"start": "yesterday"}, "start"),
    ],
)
def test_estimate_validation_errors(admin_a, change, field):
    tariff_id = post(admin_a, "/api/v1/tariffs/", EVENING).json()["id"]
    body = {"start": "2025-01-10T10:00:00Z", "end": "2025-01-10T11:00:00Z", "energy_kwh": "10"} | change
    response = post(admin_a, f"/api/v1/tariffs/{tariff_id}/estimate/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["errors"]


def test_tenant_a_cannot_see_or_change_tenant_b_tariffs(admin_a, admin_b, tenant_b):
    theirs = post(admin_b, "/api/v1/tariffs/import-ocpi/", ex.COMPLEX).json()["id"]
    url = f"/api/v1/tariffs/{theirs}/"
    assert admin_a.get("/api/v1/tariffs/").json()["count"] == 0
    assert admin_a.get(url).status_code == 404
    assert admin_a.get(f"{url}ocpi/").status_code == 404
    assert admin_a.patch(url, json.dumps({"name": "mine"}), content_type="application/json").status_code == 404
    assert admin_a.delete(url).status_code == 404
    estimate = {"start": "2025-01-10T10:00:00Z", "end": "2025-01-10T11:00:00Z", "energy_kwh": "1"}
    assert post(admin_a, f"{url}estimate/", estimate).status_code == 404
    # The same OCPI identity may exist in both organisations: schemas are separate.
    assert post(admin_a, "/api/v1/tariffs/import-ocpi/", ex.COMPLEX).status_code == 201
    with schema_context(tenant_b.schema_name):
        assert Tariff.objects.get(pk=theirs).name == ""
        assert Tariff.objects.count() == 1
