import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint
from apps.chargers.passwords import check_charger_password
from apps.chargers.services import charge_point_create, connector_status_record

URL = "/api/v1/charge-points/"
PASSWORD = "a-good-charger-password"


@pytest.fixture
def tech_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))


def test_create_read_update_delete(tenant_a, tech_a):
    created = tech_a.post(
        URL,
        {"identity": "CP-API", "password": PASSWORD, "security_profile": 1, "heartbeat_interval": 120},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert "password" not in body and body["has_password"] is True
    assert body["registration_status"] == "Accepted" and body["online"] is False
    with schema_context(tenant_a.schema_name):
        cp = ChargePoint.objects.get(identity="CP-API")
        assert check_charger_password(PASSWORD, cp.password_hash)
        from django.utils import timezone

        connector_status_record(
            charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Available", timestamp=timezone.now()
        )
    detail = tech_a.get(URL + "CP-API/").json()
    assert detail["connectors"][0]["status"] == "Available" and detail["heartbeat_interval"] == 120
    patched = tech_a.patch(
        URL + "CP-API/",
        {"registration_status": "Pending", "identity": "RENAMED", "vendor": "Forged"},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert (patched.json()["identity"], patched.json()["registration_status"]) == ("CP-API", "Pending")
    assert patched.json()["vendor"] == ""
    assert tech_a.get(URL + "?registration_status=Pending").json()["count"] == 1
    assert tech_a.delete(URL + "CP-API/").status_code == 204


def test_password_rules(tech_a):
    short = tech_a.post(
        URL, {"identity": "CP-X", "password": "too-short", "security_profile": 1}, content_type="application/json"
    )
    assert short.status_code == 400 and "password" in short.json()["errors"]
    missing = tech_a.post(URL, {"identity": "CP-X", "security_profile": 1}, content_type="application/json")
    assert missing.status_code == 400 and "password" in missing.json()["errors"]


def test_tenant_b_cannot_see_tenant_a_chargers(tenant_a, tenant_b, make_user, login):
    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="CP-A-ONLY", password=PASSWORD)
    client_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert client_b.get(URL).json()["count"] == 0
    assert client_b.get(URL + "CP-A-ONLY/").status_code == 404
    assert (
        client_b.post(URL + "CP-A-ONLY/ocpp/Reset", {"type": "Soft"}, content_type="application/json").status_code
        == 404
    )
    assert client_b.get(URL + "CP-A-ONLY/messages/").status_code == 404


def test_roles(tenant_a, make_user, login):
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.get(URL).status_code == 200
    assert (
        finance.post(URL, {"identity": "X", "security_profile": 0}, content_type="application/json").status_code == 403
    )
    driver = login(tenant_a, make_user(tenant_a, role=Role.DRIVER))
    assert driver.get(URL).status_code == 403


def test_locations_crud_and_charger_assignment(tenant_a, tech_a, make_user, login):
    # Sites are the admins' (as on the Locations page); technicians put chargers on them.
    admin_a = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    created = admin_a.post(
        "/api/v1/locations/",
        {
            "name": "Market square",
            "city": "Berlin",
            "latitude": "52.520008",
            "longitude": "13.404954",
            "time_zone": "Europe/Berlin",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    location_id = created.json()["id"]
    bad = admin_a.post(
        "/api/v1/locations/", {"name": "X", "time_zone": "Mars/Olympus"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "time_zone" in bad.json()["errors"]
    cp = tech_a.post(
        URL, {"identity": "CP-LOC", "security_profile": 0, "location": location_id}, content_type="application/json"
    )
    assert cp.status_code == 201 and cp.json()["location"] == location_id
    assert tech_a.get(f"{URL}?location={location_id}").json()["count"] == 1


def test_tenant_b_cannot_see_tenant_a_locations(tenant_a, tenant_b, make_user, login):
    from apps.chargers.services import location_create

    with schema_context(tenant_a.schema_name):
        location = location_create(name="Only A")
    client_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert client_b.get("/api/v1/locations/").json()["count"] == 0
    assert client_b.get(f"/api/v1/locations/{location.pk}/").status_code == 404
