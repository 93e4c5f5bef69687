import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.charging.models import IdToken
from apps.charging.services import id_token_create

GOOD_AND_BAD = (
    "id_token,type,status,label,owner_email\n"
    "CARD-001,ISO14443,Accepted,Fleet van 1,driver1@alpha.example\n"
    "card-old,ISO14443,Blocked,Lost card,\n"
    "CARD-003,ISO14443,Sleeping,Bad status,\n"
    "CARD-004,ISO14443,Accepted,Unknown owner,nobody@alpha.example\n"
)


def _upload(client, text, name="cards.csv"):
    return client.post("/cards/import/", {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


@pytest.fixture
def staff(tenant_a, make_user, login):
    make_user(tenant_a, role=Role.DRIVER, email="driver1@alpha.example")
    with schema_context(tenant_a.schema_name):
        id_token_create(id_token="CARD-OLD", label="Existing")
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))


def _cards(tenant):
    with schema_context(tenant.schema_name):
        return {t.id_token: t for t in IdToken.objects.select_related("owner")}


@pytest.mark.django_db
def test_bad_rows_are_reported_and_nothing_is_applied(tenant_a, staff):
    body = _upload(staff, GOOD_AND_BAD).content.decode()
    assert "fix the file first" in body
    assert "2 with errors" in body
    assert "Sleeping" in body and "nobody@alpha.example" in body  # the offending rows are shown
    assert "No user with e-mail nobody@alpha.example" in body
    # Confirming is impossible and nothing changed.
    assert "Import 4 rows" not in body
    staff.post("/cards/import/", {"confirm": "1"})
    cards = _cards(tenant_a)
    assert set(cards) == {"CARD-OLD"} and cards["CARD-OLD"].status == "Accepted"


@pytest.mark.django_db
def test_clean_file_previews_then_imports_on_confirm(tenant_a, staff):
    text = "\n".join(GOOD_AND_BAD.splitlines()[:3]) + "\n"
    body = _upload(staff, text).content.decode()
    assert "ready to import" in body and "1 new" in body and "1 updated" in body
    assert set(_cards(tenant_a)) == {"CARD-OLD"}  # the preview was a dry run
    response = staff.post("/cards/import/", {"confirm": "1"})
    assert response.status_code == 302
    cards = _cards(tenant_a)
    assert cards["CARD-001"].owner.email == "driver1@alpha.example"
    assert (
        cards["CARD-OLD"].status == "Blocked" and cards["CARD-OLD"].label == "Lost card"
    )  # matched case-insensitively
    assert len(cards) == 2


@pytest.mark.django_db
def test_xlsx_import_and_export_round_trip(tenant_a, staff):
    exported = staff.get("/cards/export.xlsx")
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["id_token", "type", "status"]
    sheet.append(["CARD-XL", "ISO14443", "Accepted", "From Excel", "", None, ""])
    buffer = io.BytesIO()
    book.save(buffer)
    response = staff.post("/cards/import/", {"file": SimpleUploadedFile("cards.xlsx", buffer.getvalue())})
    assert "ready to import" in response.content.decode()
    staff.post("/cards/import/", {"confirm": "1"})
    assert _cards(tenant_a)["CARD-XL"].label == "From Excel"
    csv = staff.get("/cards/export.csv").content.decode()
    assert csv.splitlines()[0].startswith("id_token,type,status") and "CARD-XL" in csv


@pytest.mark.django_db
def test_unreadable_or_incomplete_files_get_a_clear_error(tenant_a, staff):
    assert "Missing column(s): id_token" in _upload(staff, "label,status\nx,Accepted\n").content.decode()
    assert (
        "could not be read"
        in staff.post(
            "/cards/import/", {"file": SimpleUploadedFile("cards.xlsx", b"not a spreadsheet")}
        ).content.decode()
    )


@pytest.mark.django_db
def test_finance_cannot_import(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert client.get("/cards/import/").status_code == 403
    assert client.get("/cards/export.csv").status_code == 200
