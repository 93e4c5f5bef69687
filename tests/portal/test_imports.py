"""Bulk onboarding of chargers and locations: CSV/XLSX, dry run → confirm, per-row
report, all or nothing, exports without passwords."""

import base64
import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint, Connector, Location
from apps.chargers.passwords import check_charger_password
from apps.chargers.services import charge_point_create, location_create
from apps.csms.services import connection_authorize

PW1, PW2 = "first-charger-secret-01", "second-charger-secret-2"
CHARGERS_GOOD = (
    "identity,name,location,security_profile,password,vendor,model,connectors\n"
    f"IMP-1,Gate A,Depot,1,{PW1},ACME,X22,1:IEC_62196_T2:AC_3_PHASE:22000;2:IEC_62196_T2:AC_3_PHASE:22000\n"
    f"IMP-2,Gate B,,2,{PW2},,,1:CHADEMO:DC:50000:CABLE:500:125;1.2:IEC_62196_T2_COMBO:DC:50000:CABLE\n"
    "IMP-3,Open lab,Depot,0,,,,\n"
)
CHARGERS_BAD = (
    CHARGERS_GOOD
    + "IMP-4,No password,Depot,1,,,,\n"
    + f"IMP-5,Bad plug,Depot,1,{PW1},,,1:SCHUKO:AC_1_PHASE:3700\n"
    + f"IMP-6,Nowhere,Atlantis,1,{PW1},,,\n"
)


def _upload(client, url, text, name="file.csv"):
    content = text if isinstance(text, bytes) else text.encode()
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def _rows(body: str) -> dict[int, str]:
    """Row number → that row's HTML in the report table."""
    import re

    return {int(n): html for n, html in re.findall(r'data-row="(\d+)">(.*?)</tr>', body, re.S)}


@pytest.fixture
def operator(tenant_a, make_user, login):
    with schema_context(tenant_a.schema_name):
        location_create(name="Depot", city="Berlin")
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


def _chargers(tenant):
    with schema_context(tenant.schema_name):
        return {cp.identity: cp for cp in ChargePoint.objects.select_related("location")}


def test_one_bad_charger_row_imports_nothing_and_the_report_names_it(tenant_a, operator):
    body = _upload(operator, "/chargers/import/", CHARGERS_BAD).content.decode()
    assert "fix the file first" in body and "3 with errors" in body
    rows = _rows(body)
    assert "password" in rows[4] and "need a password" in rows[4]
    assert "connector 1.1" in rows[5] and "SCHUKO" in rows[5]
    assert "no location &#x27;Atlantis&#x27;" in rows[6] or "no location 'Atlantis'" in rows[6]
    assert '<td class="error"></td>' in rows[1]  # good rows carry no message
    assert PW1 not in body  # passwords are not echoed back
    assert "Import 6 rows" not in body
    operator.post("/chargers/import/", {"confirm": "1"})
    assert _chargers(tenant_a) == {}


def test_clean_charger_import_creates_chargers_whose_passwords_authenticate(tenant_a, operator):
    body = _upload(operator, "/chargers/import/", CHARGERS_GOOD).content.decode()
    assert "ready to import" in body and "3 new" in body
    assert _chargers(tenant_a) == {}  # the preview was a dry run
    response = operator.post("/chargers/import/", {"confirm": "1"})
    assert response.status_code == 302
    chargers = _chargers(tenant_a)
    assert set(chargers) == {"IMP-1", "IMP-2", "IMP-3"}
    assert chargers["IMP-1"].location.name == "Depot" and chargers["IMP-2"].location is None
    assert (chargers["IMP-1"].vendor, chargers["IMP-1"].model, chargers["IMP-3"].security_profile) == ("ACME", "X22", 0)
    assert PW1 not in chargers["IMP-1"].password_hash and chargers["IMP-1"].password_hash.startswith("pbkdf2_sha256$")
    assert check_charger_password(PW1, chargers["IMP-1"].password_hash)
    with schema_context(tenant_a.schema_name):
        header = "Basic " + base64.b64encode(f"IMP-1:{PW1}".encode()).decode()
        assert connection_authorize(identity="IMP-1", authorization=header, secure=False).allowed
        wrong = "Basic " + base64.b64encode(b"IMP-1:not-the-password-1").decode()
        assert not connection_authorize(identity="IMP-1", authorization=wrong, secure=False).allowed
        header2 = "Basic " + base64.b64encode(f"IMP-2:{PW2}".encode()).decode()
        assert connection_authorize(identity="IMP-2", authorization=header2, secure=True).allowed
        connectors = {(c.evse_id, c.connector_id): c for c in Connector.objects.filter(charge_point__identity="IMP-2")}
    assert set(connectors) == {(1, 1), (1, 2)}
    chademo = connectors[(1, 1)]
    assert (chademo.standard, chademo.power_type, chademo.max_electric_power, chademo.format) == (
        "CHADEMO",
        "DC",
        50000,
        "CABLE",
    )
    assert (chademo.max_voltage, chademo.max_amperage) == (500, 125)


def test_reimport_updates_and_keeps_passwords_and_boot_data(tenant_a, operator):
    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="IMP-1", password=PW1, vendor="Real", model="Boot")
        original = cp.password_hash
    text = "identity,name,location,security_profile,password,vendor,model,connectors\nIMP-1,Renamed,Depot,1,,,,\n"
    body = _upload(operator, "/chargers/import/", text).content.decode()
    assert "1 updated" in body
    operator.post("/chargers/import/", {"confirm": "1"})
    cp = _chargers(tenant_a)["IMP-1"]
    assert (cp.name, cp.location.name, cp.password_hash, cp.vendor) == ("Renamed", "Depot", original, "Real")


def test_charger_export_has_no_passwords_and_imports_back(tenant_a, operator):
    _upload(operator, "/chargers/import/", CHARGERS_GOOD)
    operator.post("/chargers/import/", {"confirm": "1"})
    with schema_context(tenant_a.schema_name):
        hashes = [cp.password_hash for cp in ChargePoint.objects.exclude(password_hash="")]
    csv = operator.get("/chargers/export.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode()
    header = text.splitlines()[0]
    assert header == "identity,name,location,security_profile,vendor,model,connectors"
    assert "password" not in text and PW1 not in text and not any(h in text for h in hashes)
    assert "1:CHADEMO:DC:50000:CABLE:500:125;1.2:IEC_62196_T2_COMBO:DC:50000:CABLE" in text
    xlsx = operator.get("/chargers/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert "password" not in [c.value for c in sheet[1]]
    # The export is an import template: the same file previews as updates only.
    body = _upload(operator, "/chargers/import/", xlsx.content, name="chargers.xlsx").content.decode()
    assert "ready to import" in body and "3 updated" in body and "0 new" in body


def test_location_import_all_or_nothing_with_json_columns(tenant_a, operator):
    hours = json.dumps(
        {"twentyfourseven": False, "regular_hours": [{"weekday": 1, "period_begin": "07:00", "period_end": "19:00"}]}
    )
    rows = [
        [
            "name",
            "address",
            "city",
            "country",
            "latitude",
            "longitude",
            "parking_type",
            "facilities",
            "opening_times",
            "publish",
        ],
        ["Harbour", "Kai 1", "Hamburg", "DE", "53.54", "9.98", "PARKING_LOT", "CAFE, WIFI", hours, "1"],
        ["Depot", "Ring 2", "Berlin", "", "", "", "", '["SUPERMARKET"]', "", ""],
        ["Broken", "", "Köln", "DE", "", "", "", "CASINO", '{"twentyfourseven": tru', "0"],
        ["Lost", "", "Bonn", "XX", "", "", "", "", "", "1"],
    ]
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    body = _upload(operator, "/locations/import/", buffer.getvalue(), name="sites.xlsx").content.decode()
    assert "fix the file first" in body and "2 with errors" in body
    report = _rows(body)
    assert "not valid JSON" in report[3] and "opening_times" in report[3]
    assert "country" in report[4] and "alpha-2" in report[4]
    with schema_context(tenant_a.schema_name):
        assert list(Location.objects.values_list("name", flat=True)) == ["Depot"]
    good = io.BytesIO()
    book.active.delete_rows(4, 2)
    book.save(good)
    body = _upload(operator, "/locations/import/", good.getvalue(), name="sites.xlsx").content.decode()
    assert "ready to import" in body and "1 new" in body and "1 updated" in body
    assert operator.post("/locations/import/", {"confirm": "1"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        harbour, depot = Location.objects.get(name="Harbour"), Location.objects.get(name="Depot")
    assert harbour.facilities == ["CAFE", "WIFI"] and harbour.publish and harbour.country == "DE"
    assert harbour.opening_times["regular_hours"][0]["period_begin"] == "07:00"
    assert depot.facilities == ["SUPERMARKET"] and depot.address == "Ring 2" and depot.city == "Berlin"
    assert harbour.time_zone == str(tenant_a.timezone)  # the organisation's default for new rows


def test_location_export_follows_the_filters_and_round_trips(tenant_a, operator):
    with schema_context(tenant_a.schema_name):
        location_create(
            name="Harbour",
            city="Hamburg",
            address="Kai 1",
            latitude="53.54",
            longitude="9.98",
            publish=True,
            opening_times={"twentyfourseven": True},
            facilities=["CAFE"],
        )
    text = operator.get("/locations/export.csv?publish=yes").content.decode()
    lines = text.splitlines()
    assert lines[0].startswith("id,name,address,postal_code,city,state,country") and len(lines) == 2
    assert "Harbour" in text and "Depot" not in text and '""twentyfourseven"":true' in text
    body = _upload(operator, "/locations/import/", text).content.decode()
    assert "ready to import" in body and "1 updated" in body


def test_missing_columns_and_roles(tenant_a, operator, make_user, login):
    assert "Missing column(s): identity" in _upload(operator, "/chargers/import/", "name\nx\n").content.decode()
    assert "Missing column(s): name" in _upload(operator, "/locations/import/", "city\nx\n").content.decode()
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.get("/chargers/import/").status_code == 403
    assert finance.get("/chargers/export.csv").status_code == 200
    staff = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    assert staff.get("/chargers/import/").status_code == 200
    assert staff.get("/locations/import/").status_code == 403


def test_imports_stay_in_their_tenant(tenant_a, tenant_b, operator, make_user, login):
    _upload(operator, "/chargers/import/", CHARGERS_GOOD)
    operator.post("/chargers/import/", {"confirm": "1"})
    other = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert "IMP-1" not in other.get("/chargers/export.csv").content.decode()
    # "Depot" exists only in alpha: beta's import cannot reach it.
    body = _upload(other, "/chargers/import/", CHARGERS_GOOD).content.decode()
    assert "no location" in body and _chargers(tenant_b) == {}


def test_a_previewed_file_waits_encrypted_outside_the_session_store(tenant_a, operator, monkeypatch):
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    from apps.portal import bulk

    _upload(operator, "/chargers/import/", CHARGERS_GOOD)
    with schema_context(tenant_a.schema_name):
        stored = [s.get_decoded() for s in Session.objects.all()]
    session_text = json.dumps(stored)
    # Before: the file, passwords included, sat base64-encoded in the session for two weeks.
    assert base64.b64encode(CHARGERS_GOOD.encode()).decode()[:40] not in session_text
    assert PW1 not in session_text
    token = operator.session["import_file_chargers"]
    raw = cache.get(f"import-preview:{token}")
    assert raw and PW1 not in raw and base64.b64encode(PW1.encode()).decode()[:12] not in raw
    assert bulk.PREVIEW_SECONDS <= 3600
    # Confirming applies exactly the previewed file and drops it.
    assert operator.post("/chargers/import/", {"confirm": "1"}).status_code == 302
    assert cache.get(f"import-preview:{token}") is None
    assert "import_file_chargers" not in operator.session


def test_an_expired_preview_is_not_applied(tenant_a, operator):
    from django.core.cache import cache

    _upload(operator, "/chargers/import/", CHARGERS_GOOD)
    cache.delete(f"import-preview:{operator.session['import_file_chargers']}")  # as after PREVIEW_SECONDS
    body = operator.post("/chargers/import/", {"confirm": "1"}).content.decode()
    assert "expired" in body and _chargers(tenant_a) == {}


def test_a_duplicate_identity_in_one_file_is_reported_not_last_wins(tenant_a, operator):
    text = CHARGERS_GOOD + f"imp-1 ,Gate A again,Depot,1,{PW2},,,\n"  # CiString: the same charger
    body = _upload(operator, "/chargers/import/", text).content.decode()
    rows = _rows(body)
    assert "Duplicate of row 1" in rows[4] and "Duplicate" not in rows[1]
    operator.post("/chargers/import/", {"confirm": "1"})
    assert _chargers(tenant_a) == {}  # all or nothing


def test_exports_cannot_carry_formulas_into_a_spreadsheet(tenant_a, operator):
    with schema_context(tenant_a.schema_name):
        formula = '=HYPERLINK("http://evil.example","x")'
        charge_point_create(identity="CP-FORMULA", security_profile=0, name=formula, vendor="+1+1")
        charge_point_create(identity="CP-PLAIN", security_profile=0, name="Gate - west", vendor="@home")
    text = operator.get("/chargers/export.csv").content.decode()
    assert "'=HYPERLINK" in text and ",'+1+1," in text and ",'@home" in text
    assert "Gate - west" in text  # only a leading sign is a formula
    sheet = openpyxl.load_workbook(io.BytesIO(operator.get("/chargers/export.xlsx").content)).active
    names = {row[1].value for row in sheet.iter_rows(min_row=2)}
    assert '\'=HYPERLINK("http://evil.example","x")' in names
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
