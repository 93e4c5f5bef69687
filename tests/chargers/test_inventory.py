"""OCPI 2.2.1 location fields and connector attributes: service rules, the API, tenancy,
and declared connectors surviving StatusNotification."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers import ocpi
from apps.chargers.models import Connector, Location
from apps.chargers.services import (
    charge_point_create,
    connector_declare,
    connector_remove,
    connector_status_record,
    connector_update,
    location_create,
    location_update,
)
from apps.csms.handlers.v16 import V16Session
from tests.csms.harness import Harness

HOURS = {
    "twentyfourseven": False,
    "regular_hours": [
        {"weekday": 2, "period_begin": "08:00", "period_end": "20:00"},
        {"weekday": 1, "period_begin": "08:00", "period_end": "12:00"},
        {"weekday": 1, "period_begin": "14:00", "period_end": "18:00"},
    ],
    "exceptional_closings": [{"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}],
}
FULL = {
    "name": "Harbour",
    "address": "Kai 1",
    "postal_code": "20457",
    "city": "Hamburg",
    "state": "HH",
    "country": "de",
    "latitude": "53.541",
    "longitude": "9.984",
    "time_zone": "Europe/Berlin",
    "parking_type": "parking_lot",
    "facilities": ["CAFE", "WIFI", "CAFE"],
    "opening_times": HOURS,
    "charging_when_closed": False,
    "images": [{"url": "https://example.com/a.jpg", "category": "LOCATION", "type": "JPEG", "width": 800}],
    "directions": [{"language": "EN", "text": "Gate 2"}],
    "energy_mix": {"is_green_energy": True, "supplier_name": "Green AG"},
    "publish": True,
    "operator_name": "EVzone",
    "operator_website": "https://evzone.example",
    "owner_name": "Port authority",
}


def test_country_alpha3_table():
    assert ocpi.country_alpha3("DE") == "DEU"  # not the withdrawn DDR
    assert ocpi.country_alpha3("FR") == "FRA" and ocpi.country_alpha3("GB") == "GBR"
    assert ocpi.country_alpha3("UG") == "UGA" and ocpi.country_alpha3("NL") == "NLD"
    assert ocpi.country_alpha3("QQ") == "" and len(ocpi.ALPHA3) > 240


def test_location_create_normalises_every_ocpi_field(in_tenant_a):
    location = location_create(**FULL)
    location.refresh_from_db()
    assert location.country == "DE" and location.country_alpha3 == "DEU"
    assert location.parking_type == "PARKING_LOT" and location.facilities == ["CAFE", "WIFI"]
    assert [p["weekday"] for p in location.opening_times["regular_hours"]] == [1, 1, 2]
    assert location.images[0]["type"] == "jpeg" and location.directions == [{"language": "en", "text": "Gate 2"}]
    assert location.publish and location.last_updated is not None and not location.charging_when_closed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "XX", "not an ISO 3166-1 alpha-2"),
        ("country", "DEU", "alpha-2"),
        ("parking_type", "ROOFTOP", "Parking type 'ROOFTOP' is not one of"),
        ("facilities", ["CAFE", "CASINO"], "Facility 'CASINO'"),
        ("facilities", "CAFE", "must be a list"),
        ("opening_times", {"regular_hours": []}, "twentyfourseven"),
        ("opening_times", {"twentyfourseven": False}, "give regular_hours"),
        ("opening_times", {"twentyfourseven": True, "regular_hours": HOURS["regular_hours"]}, "must be empty"),
        (
            "opening_times",
            {
                "twentyfourseven": False,
                "regular_hours": [{"weekday": 8, "period_begin": "08:00", "period_end": "09:00"}],
            },
            "weekday must be 1 (Monday) to 7",
        ),
        (
            "opening_times",
            {"twentyfourseven": False, "regular_hours": [{"weekday": 1, "period_begin": "8am", "period_end": "09:00"}]},
            "period_begin must be HH:MM",
        ),
        (
            "opening_times",
            {
                "twentyfourseven": False,
                "regular_hours": [
                    {"weekday": 3, "period_begin": "08:00", "period_end": "12:00"},
                    {"weekday": 3, "period_begin": "11:00", "period_end": "13:00"},
                ],
            },
            "overlap",
        ),
        (
            "opening_times",
            {"twentyfourseven": True, "exceptional_closings": [{"period_begin": "2026-12-25", "period_end": "x"}]},
            "needs a time zone",
        ),
        ("images", [{"url": "ftp://x/a.jpg", "category": "LOCATION", "type": "jpeg"}], "http(s) URL"),
        ("images", [{"url": "https://x/a.jpg", "category": "SELFIE", "type": "jpeg"}], "category 'SELFIE'"),
        ("directions", [{"language": "english", "text": "Left"}], "ISO 639-1"),
        ("energy_mix", {"is_green_energy": "yes"}, "is_green_energy"),
        (
            "energy_mix",
            {"is_green_energy": True, "energy_sources": [{"source": "SOLAR", "percentage": 60}]},
            "add up to 100",
        ),
        ("operator_website", "not a url", "valid URL"),
        ("time_zone", "Mars/Olympus", "IANA"),
    ],
)
def test_location_validation_names_the_field(in_tenant_a, field, value, message):
    with pytest.raises(ValidationError) as caught:
        location_create(name="Bad", **{field: value})
    assert field in caught.value.message_dict
    assert any(message in m for m in caught.value.message_dict[field]), caught.value.message_dict
    assert not Location.objects.filter(name="Bad").exists()


def test_publishing_needs_a_complete_location(in_tenant_a):
    location = location_create(name="Draft", city="Berlin")
    with pytest.raises(ValidationError) as caught:
        location_update(location=location, publish=True)
    assert "address, latitude, longitude" in caught.value.message_dict["publish"][0]
    with pytest.raises(ValidationError) as caught:
        location_update(location=location, publish_allowed_to=[{"type": "RFID"}])
    assert "uid, or visual_number and issuer, or group_id" in caught.value.message_dict["publish_allowed_to"][0]
    location_update(location=location, publish_allowed_to=[{"group_id": "FLEET-1"}])
    with pytest.raises(ValidationError, match="cannot be set"):
        location_update(location=location, created_at=timezone.now())


# --------------------------------------------------------------------------- connectors


def test_connector_declared_before_first_connection_keeps_attributes_after_status_notification(in_tenant_a):
    cp = charge_point_create(identity="DECL-1", password="declared-charger-pw1")
    connector_declare(
        charge_point=cp,
        evse_id=1,
        connector_id=1,
        standard="iec_62196_t2",
        format="SOCKET",
        power_type="AC_3_PHASE",
        max_voltage=400,
        max_amperage=32,
        max_electric_power=22000,
        ocpi_evse_id="de*evz*e0001*1",
        evse_uid="EVSE-0001",
    )
    # The charger connects and reports its status (through the real OCPP 1.6 handler).
    harness = Harness(cp, V16Session)
    reply = harness.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}, uid="s-1"
    )
    assert reply[0] == 3
    connector = Connector.objects.get(charge_point=cp, evse_id=1, connector_id=1)
    assert connector.status == "Available" and connector.status_at is not None
    assert (connector.standard, connector.power_type, connector.max_electric_power) == (
        "IEC_62196_T2",
        "AC_3_PHASE",
        22000,
    )
    assert connector.ocpi_evse_id == "DE*EVZ*E0001*1" and connector.evse_uid == "EVSE-0001"
    # A later declaration edits attributes without touching the reported status.
    connector_declare(charge_point=cp, evse_id=1, connector_id=1, max_electric_power=11000)
    connector.refresh_from_db()
    assert connector.status == "Available" and connector.max_electric_power == 11000
    with pytest.raises(ValidationError, match="reported its status"):
        connector_remove(connector=connector)


def test_status_notification_first_then_declaration(in_tenant_a):
    cp = charge_point_create(identity="DECL-2", security_profile=0)
    connector_status_record(
        charge_point_id=cp.pk, evse_id=2, connector_id=2, status="Charging", timestamp=timezone.now()
    )
    connector = connector_declare(charge_point=cp, evse_id=2, connector_id=2, standard="CHADEMO", power_type="DC")
    assert connector.status == "Charging" and connector.standard == "CHADEMO"


def test_connector_validation(in_tenant_a):
    cp = charge_point_create(identity="DECL-3", security_profile=0)
    other = charge_point_create(identity="DECL-4", security_profile=0)
    cases = [
        ({"standard": "SCHUKO"}, "standard", "Connector standard 'SCHUKO'"),
        ({"format": "PLUG"}, "format", "SOCKET, CABLE"),
        ({"standard": "CHADEMO", "power_type": "AC_3_PHASE"}, "power_type", "is DC"),
        ({"standard": "IEC_62196_T2", "power_type": "DC"}, "power_type", "is AC"),
        ({"max_voltage": 22000}, "max_voltage", "between 1 and 2000"),
        ({"max_amperage": "lots"}, "max_amperage", "not a whole number"),
        ({"ocpi_evse_id": "EVSE-1"}, "ocpi_evse_id", "eMI3"),
        ({"tariff_ids": ["T1"]}, "tariff_ids", "cannot be set"),
    ]
    for attrs, field, message in cases:
        with pytest.raises(ValidationError) as caught:
            connector_declare(charge_point=cp, evse_id=1, connector_id=1, **attrs)
        assert any(message in m for m in caught.value.message_dict[field]), (attrs, caught.value.message_dict)
    with pytest.raises(ValidationError, match="start at 1"):
        connector_declare(charge_point=cp, evse_id=0, connector_id=0)
    connector_declare(charge_point=other, evse_id=1, connector_id=1, ocpi_evse_id="DE*EVZ*E9*1")
    with pytest.raises(ValidationError, match="already used by DECL-4 EVSE 1"):
        connector_declare(charge_point=cp, evse_id=1, connector_id=1, ocpi_evse_id="DE*EVZ*E9*1")
    assert not Connector.objects.filter(charge_point=cp).exists()


def test_evse_identifiers_are_shared_by_the_connectors_of_an_evse(in_tenant_a):
    cp = charge_point_create(identity="DECL-5", security_profile=0, protocol_version="ocpp2.0.1")
    first = connector_declare(charge_point=cp, evse_id=1, connector_id=1, standard="IEC_62196_T2_COMBO")
    connector_update(connector=first, ocpi_evse_id="DE*EVZ*E5*1", physical_reference="A1")
    second = connector_declare(charge_point=cp, evse_id=1, connector_id=2, standard="CHADEMO")
    assert (second.ocpi_evse_id, second.physical_reference) == ("DE*EVZ*E5*1", "A1")
    connector_update(connector=second, physical_reference="B1")
    first.refresh_from_db()
    assert first.physical_reference == "B1"


# --------------------------------------------------------------------------- API


@pytest.fixture
def admin_api(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


def test_api_round_trips_the_ocpi_fields(tenant_a, admin_api):
    created = admin_api.post("/api/v1/locations/", json.dumps(FULL), content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["country"] == "DE" and body["country_alpha3"] == "DEU"
    assert body["facilities"] == ["CAFE", "WIFI"] and body["opening_times"]["twentyfourseven"] is False
    assert body["images"][0]["width"] == 800 and body["energy_mix"]["is_green_energy"] is True
    assert body["publish"] is True and body["last_updated"]
    url = f"/api/v1/locations/{body['id']}/"
    fetched = admin_api.get(url).json()
    assert {k: fetched[k] for k in body if k != "last_updated"} == {k: body[k] for k in body if k != "last_updated"}
    patched = admin_api.patch(
        url, {"opening_times": {"twentyfourseven": True}, "facilities": ["MALL"]}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["opening_times"] == {"twentyfourseven": True}
    bad = admin_api.patch(url, {"facilities": ["CASINO"], "country": "XX"}, content_type="application/json")
    assert bad.status_code == 400
    assert "CASINO" in str(bad.json()["errors"]["facilities"]) and "country" in bad.json()["errors"]
    assert admin_api.get("/api/v1/locations/?publish=true").json()["count"] == 1
    assert admin_api.get("/api/v1/locations/?publish=false").json()["count"] == 0
    assert admin_api.get("/api/v1/locations/?country=DE&search=harb").json()["count"] == 1


def test_api_shows_connector_attributes_read_only(tenant_a, admin_api):
    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="API-CONN", security_profile=0)
        connector_declare(charge_point=cp, evse_id=1, connector_id=1, standard="IEC_62196_T2", max_electric_power=11000)
    body = admin_api.get("/api/v1/charge-points/API-CONN/").json()
    assert body["connectors"][0]["standard"] == "IEC_62196_T2" and body["connectors"][0]["max_electric_power"] == 11000


def test_tenant_b_sees_none_of_tenant_a_inventory(tenant_a, tenant_b, make_user, login):
    with schema_context(tenant_a.schema_name):
        location = location_create(name="Alpha harbour", facilities=["CAFE"])
        cp = charge_point_create(identity="ALPHA-INV", security_profile=0, location=location)
        connector_declare(charge_point=cp, evse_id=1, connector_id=1, ocpi_evse_id="DE*ALP*E1*1")
    client_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert client_b.get("/api/v1/locations/?search=harbour").json()["count"] == 0
    assert (
        client_b.patch(f"/api/v1/locations/{location.pk}/", {"name": "x"}, content_type="application/json").status_code
        == 404
    )
    with schema_context(tenant_b.schema_name):
        # The same EVSE ID is free in another organisation: identifiers are per tenant.
        other = charge_point_create(identity="ALPHA-INV", security_profile=0)
        connector_declare(charge_point=other, evse_id=1, connector_id=1, ocpi_evse_id="DE*ALP*E1*1")
        assert Location.objects.count() == 0
