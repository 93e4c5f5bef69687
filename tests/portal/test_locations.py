import json
import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import Location
from apps.chargers.services import charge_point_connected, charge_point_create, connector_status_record


@pytest.fixture
def sites(tenant_a):
    with schema_context(tenant_a.schema_name):
        depot = Location.objects.create(name="Depot", city="Berlin", latitude="52.5", longitude="13.4")
        mall = Location.objects.create(name="Mall", city="Hamburg", latitude="53.55", longitude="10.0")
        Location.objects.create(name="Planned", city="Köln")  # no coordinates yet
        cp = charge_point_create(identity="LOC-1", password="l" * 20, location=depot)
        charge_point_connected(charge_point_id=cp.pk, connection_id="c", protocol_version="ocpp1.6")
        for n, status in ((1, "Available"), (2, "Charging")):
            connector_status_record(
                charge_point_id=cp.pk,
                evse_id=n,
                connector_id=n,
                status=status,
                timestamp=timezone.now(),
                error_code="NoError",
            )
        charge_point_create(identity="LOC-2", password="l" * 20, location=mall)  # offline
    return depot, mall


@pytest.mark.django_db
def test_location_list_colours_the_map_by_live_status(tenant_a, make_user, login, sites):
    body = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF)).get("/locations/").content.decode()
    markers = json.loads(re.search(r'<script id="map-markers" type="application/json">(.*?)</script>', body).group(1))
    by_name = {m["name"]: m for m in markers}
    assert set(by_name) == {"Depot", "Mall"}  # the one without coordinates is listed, not mapped
    assert by_name["Depot"]["status"] == "available" and by_name["Depot"]["available"] == 1
    assert by_name["Mall"]["status"] == "offline"
    assert "Planned" in body and "1/1 online" in body
    assert "vendor/leaflet-1.9.4/leaflet.js" in body


@pytest.mark.django_db
def test_admin_creates_and_edits_locations_staff_cannot(tenant_a, make_user, login):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    response = admin.post(
        "/locations/new/",
        {"name": "Airport", "country": "DE", "time_zone": "Europe/Berlin", "latitude": "52.36", "longitude": "13.50"},
    )
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        airport = Location.objects.get(name="Airport")
    bad = admin.post(
        f"/locations/{airport.pk}/edit/",
        {"name": "Airport", "country": "DE", "time_zone": "Mars/Base", "latitude": "95"},
    )
    assert bad.status_code == 200 and "IANA" in bad.content.decode()
    staff = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    assert staff.get("/locations/new/").status_code == 403
    assert staff.get(f"/locations/{airport.pk}/").status_code == 200


@pytest.mark.django_db
def test_locations_do_not_cross_tenants(tenant_a, tenant_b, make_user, login, sites):
    depot, _ = sites
    other = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert "Depot" not in other.get("/locations/").content.decode()
    assert other.get(f"/locations/{depot.pk}/").status_code == 404  # beta has no locations at all


# --------------------------------------------------------------------------- OCPI fields, filters, exports


@pytest.mark.django_db
def test_location_form_edits_ocpi_fields(tenant_a, make_user, login):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    form = admin.get("/locations/new/").content.decode()
    assert 'name="facilities"' in form and 'name="hours_1"' in form and "Open 24/7" in form
    data = {
        "name": "Harbour",
        "address": "Kai 1",
        "city": "Hamburg",
        "country": "de",
        "time_zone": "Europe/Berlin",
        "latitude": "53.54",
        "longitude": "9.98",
        "parking_type": "PARKING_LOT",
        "facilities": ["CAFE", "WIFI"],
        "hours_1": "08:00-12:00, 14:00-20:00",
        "hours_6": "22:00-02:00",
        "exceptional_closings": '[{"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}]',
        "publish": "on",
        "operator_name": "EVzone",
        "operator_website": "https://evzone.example",
        "directions": '[{"language": "en", "text": "Gate 2"}]',
    }
    response = admin.post("/locations/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(tenant_a.schema_name):
        harbour = Location.objects.get(name="Harbour")
    assert harbour.country == "DE" and harbour.facilities == ["CAFE", "WIFI"] and harbour.publish
    assert harbour.opening_times["twentyfourseven"] is False
    assert [(p["weekday"], p["period_begin"], p["period_end"]) for p in harbour.opening_times["regular_hours"]] == [
        (1, "08:00", "12:00"),
        (1, "14:00", "20:00"),
        (6, "22:00", "02:00"),
    ]
    assert len(harbour.opening_times["exceptional_closings"]) == 1
    detail = admin.get(f"/locations/{harbour.pk}/").content.decode()
    assert "Monday: 08:00–12:00, 14:00–20:00" in detail and "DEU" in detail and "Gate 2" in detail
    edit = admin.get(f"/locations/{harbour.pk}/edit/").content.decode()
    assert 'value="08:00-12:00, 14:00-20:00"' in edit  # the editor shows what is stored

    bad = dict(data, hours_2="8 to 5", facilities=["CAFE"], images='[{"url": "x"}]', publish="on", address="")
    body = admin.post(f"/locations/{harbour.pk}/edit/", bad).content.decode()
    assert "write periods like 08:00-20:00" in body and "Image #1" in body
    always = dict(data, always_open="on", hours_1="", hours_6="", exceptional_closings="")
    assert admin.post(f"/locations/{harbour.pk}/edit/", always).status_code == 302
    with schema_context(tenant_a.schema_name):
        assert Location.objects.get(pk=harbour.pk).opening_times == {"twentyfourseven": True}
    unpublishable = dict(data, address="", publish="on")
    body = admin.post(f"/locations/{harbour.pk}/edit/", unpublishable).content.decode()
    assert "A published location needs address" in body


@pytest.mark.django_db
def test_location_list_filters_and_export_links(tenant_a, make_user, login, sites):
    with schema_context(tenant_a.schema_name):
        Location.objects.filter(name="Mall").update(publish=True, country="NL")
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    body = client.get("/locations/?country=NL").content.decode()
    assert "Mall" in body and "Depot" not in body
    body = client.get("/locations/?publish=no&city=berlin").content.decode()
    assert "Depot" in body and "Mall" not in body and "Planned" not in body
    body = client.get("/locations/?q=Plan").content.decode()
    assert "Planned" in body and "Depot" not in body
    assert "/locations/export.csv?q=Plan" in body and "/locations/import/" in body
