"""django-import-export in the operator's admin uses the same resources as the portal
(apps/chargers/resources.py), so admin imports validate through the services and
exports never carry passwords."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from import_export.formats.base_formats import CSV

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint, Location
from apps.chargers.passwords import check_charger_password
from apps.core.admin_sites import operator_admin_site

PASSWORD = "admin-imported-secret-1"


@pytest.fixture
def admin_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


def _csv_index(model) -> str:
    formats = operator_admin_site._registry[model].get_import_formats()
    return str(formats.index(CSV))


def _post(client, model, name, text):
    url = f"/admin/chargers/{name}/import/"
    upload = SimpleUploadedFile(f"{name}.csv", text.encode(), content_type="text/csv")
    return client.post(url, {"import_file": upload, "format": _csv_index(model)})


def test_admin_import_pages_render(admin_a):
    for name in ("chargepoint", "location"):
        page = admin_a.get(f"/admin/chargers/{name}/import/")
        assert page.status_code == 200 and "import_file" in page.content.decode()
        assert admin_a.get(f"/admin/chargers/{name}/").status_code == 200


def test_admin_charger_import_validates_through_services_and_is_all_or_nothing(tenant_a, admin_a):
    bad = (
        "identity,name,security_profile,password,connectors\n"
        f"ADM-1,Good,1,{PASSWORD},1:IEC_62196_T2:AC_3_PHASE:22000\n"
        "ADM-2,No password,1,,\n"
    )
    preview = _post(admin_a, ChargePoint, "chargepoint", bad)
    body = preview.content.decode()
    assert preview.status_code == 200 and "need a password" in body
    assert preview.context.get("confirm_form") is None  # nothing to confirm
    with schema_context(tenant_a.schema_name):
        assert not ChargePoint.objects.exists()

    good = "identity,name,security_profile,password,connectors\n" + bad.splitlines()[1] + "\n"
    preview = _post(admin_a, ChargePoint, "chargepoint", good)
    confirm = preview.context["confirm_form"]
    assert confirm is not None
    with schema_context(tenant_a.schema_name):
        assert not ChargePoint.objects.exists()  # dry run
    done = admin_a.post("/admin/chargers/chargepoint/process_import/", confirm.initial)
    assert done.status_code == 302, done.content[:2000]
    with schema_context(tenant_a.schema_name):
        cp = ChargePoint.objects.get(identity="ADM-1")
        assert check_charger_password(PASSWORD, cp.password_hash)
        assert cp.connectors.get().standard == "IEC_62196_T2"


def test_admin_location_import_checks_ocpi_fields(tenant_a, admin_a):
    text = 'name,city,facilities\nHarbour,Hamburg,"CAFE, CASINO"\n'
    body = _post(admin_a, Location, "location", text).content.decode()
    assert "CASINO" in body
    with schema_context(tenant_a.schema_name):
        assert not Location.objects.exists()


def test_admin_export_has_no_password_column(tenant_a, admin_a):
    from apps.chargers.services import charge_point_create

    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="ADM-EXP", password=PASSWORD)
    page = admin_a.get("/admin/chargers/chargepoint/export/")
    assert page.status_code == 200
    form = page.context["form"]
    assert [name for name in form.fields if "password" in name.lower()] == []
    data = {name: "on" for name, field in form.fields.items() if name.startswith("chargepointresource_")}
    data["format"] = str(
        [f().get_title() for f in operator_admin_site._registry[ChargePoint].get_export_formats()].index("csv")
    )
    exported = admin_a.post("/admin/chargers/chargepoint/export/", data)
    assert exported.status_code == 200, exported.content[:1000]
    text = exported.content.decode()
    assert "ADM-EXP" in text and "password" not in text.lower() and "pbkdf2" not in text


def test_admin_location_form_runs_the_ocpi_checks(tenant_a, admin_a):
    data = {
        "name": "Form site",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "facilities": '["CASINO"]',
        "images": "[]",
        "directions": "[]",
        "publish_allowed_to": "[]",
        "charging_when_closed": "on",
    }
    response = admin_a.post("/admin/chargers/location/add/", data)
    assert response.status_code == 200 and "CASINO" in response.content.decode()
    data["facilities"] = '["CAFE"]'
    response = admin_a.post("/admin/chargers/location/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(tenant_a.schema_name):
        assert Location.objects.get(name="Form site").facilities == ["CAFE"]
