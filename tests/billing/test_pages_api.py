"""Finance pages and the API: who may see what, filters, CSV, PDF download, credit notes from
the page, and tenant isolation for every page and endpoint."""

import csv
import io

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.billing.models import Invoice
from apps.billing.services import cdr_create_for_transaction
from tests.billing.conftest import EVENING_TARIFF, import_tariff, run_session
from tests.conftest import host_of


@pytest.fixture
def billed(tenant_a, charger, driver):
    """One invoiced session and one unpriced session without a driver, in tenant A."""
    with schema_context(tenant_a.schema_name):
        import_tariff(EVENING_TARIFF, scope="evse", scope_ref="BILL-CP/1")  # connector 2 has no tariff
        cdr = cdr_create_for_transaction(transaction=run_session(charger))
        from apps.charging.services import id_token_create

        id_token_create(id_token="ANON-CARD")
        other = cdr_create_for_transaction(transaction=run_session(charger, id_tag="ANON-CARD", connector_id=2))
        return {"cdr": cdr, "other": other, "invoice": Invoice.objects.get(cdr=cdr)}


def _pages(billed) -> list[str]:
    invoice, cdr = billed["invoice"], billed["cdr"]
    return [
        "/billing/cdrs/",
        "/billing/cdrs/export.csv",
        f"/billing/cdrs/{cdr.pk}/",
        "/billing/invoices/",
        "/billing/invoices/export.csv",
        f"/billing/invoices/{invoice.pk}/",
        f"/billing/invoices/{invoice.pk}/pdf/",
        "/billing/credit-notes/",
        "/billing/credit-notes/export.csv",
        "/api/v1/cdrs/",
        f"/api/v1/cdrs/{cdr.pk}/",
        "/api/v1/invoices/",
        f"/api/v1/invoices/{invoice.pk}/",
        f"/api/v1/invoices/{invoice.pk}/pdf/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.FINANCE, Role.OPERATOR_ADMIN])
def test_finance_and_admins_see_every_page(tenant_a, make_user, login, billed, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    for url in _pages(billed):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OPERATOR_STAFF, Role.TECHNICIAN, Role.DRIVER])
def test_staff_without_money_rights_and_drivers_see_nothing(tenant_a, make_user, login, billed, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    for url in _pages(billed):
        assert client.get(url).status_code == 403, url
    anonymous = Client(HTTP_HOST=host_of(tenant_a))
    assert anonymous.get("/billing/invoices/").status_code == 302
    assert anonymous.get("/api/v1/cdrs/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_driver_downloads_only_their_own_receipts(tenant_a, login, billed, driver, make_user):
    invoice = billed["invoice"]
    mine = login(tenant_a, driver)
    assert invoice.number in mine.get("/billing/my/receipts/").content.decode()
    assert mine.get(f"/billing/invoices/{invoice.pk}/pdf/")["Content-Type"] == "application/pdf"
    stranger = login(tenant_a, make_user(tenant_a, role=Role.DRIVER))
    assert invoice.number not in stranger.get("/billing/my/receipts/").content.decode()
    assert stranger.get(f"/billing/invoices/{invoice.pk}/pdf/").status_code == 403


@pytest.mark.django_db
def test_filters_and_csv_export(tenant_a, make_user, login, billed):
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    cdr, other = billed["cdr"], billed["other"]
    page = client.get("/billing/cdrs/?status=no_tariff").content.decode()
    assert f"/billing/cdrs/{other.pk}/" in page and f"/billing/cdrs/{cdr.pk}/" not in page
    page = client.get("/billing/cdrs/?driver=dora").content.decode()
    assert f"/billing/cdrs/{cdr.pk}/" in page and f"/billing/cdrs/{other.pk}/" not in page
    assert f"/billing/cdrs/{cdr.pk}/" not in client.get("/billing/cdrs/?date_from=2026-01-16").content.decode()
    assert f"/billing/cdrs/{cdr.pk}/" in client.get("/billing/cdrs/?date_to=2026-01-15&charger=bill").content.decode()
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(client.get("/billing/cdrs/export.csv?driver=dora").streaming_content).decode())
        )
    )
    assert [(r["cdr_id"], r["total_incl_vat"], r["driver_email"]) for r in rows] == [
        (cdr.cdr_id, "7.6200", "dora@example.com")
    ]
    invoices = list(
        csv.DictReader(io.StringIO(b"".join(client.get("/billing/invoices/export.csv").streaming_content).decode()))
    )
    assert [(r["number"], r["total_incl_vat"], r["vat_breakdown"]) for r in invoices] == [
        (billed["invoice"].number, "7.6200", "19%: 6.40 + 1.22")
    ]
    assert "Nothing issued" in client.get("/billing/invoices/?status=credited").content.decode()
    api = client.get("/api/v1/cdrs/?status=no_tariff").json()
    assert [c["id"] for c in api["results"]] == [other.cdr_id]


@pytest.mark.django_db
def test_api_cdr_is_ocpi_shaped_and_invoice_links_its_pdf(tenant_a, make_user, login, billed):
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    cdr = client.get(f"/api/v1/cdrs/{billed['cdr'].pk}/").json()
    assert cdr["total_cost"] == {"excl_vat": "6.4000", "incl_vat": "7.6200"}
    assert cdr["cdr_token"] == {"uid": "CARD-DORA", "type": "RFID", "contract_id": "CARD-DORA"}
    assert cdr["total_energy"] == "16" and cdr["total_time"] == "2" and cdr["currency"] == "EUR"
    assert cdr["tariffs"][0]["id"] == "EVENING" and cdr["charging_periods"][1]["start_date_time"] == (
        "2026-01-15T17:00:00Z"
    )
    assert cdr["start_date_time"] == "2026-01-15T16:00:00Z" and cdr["auth_method"] == "AUTH_REQUEST"
    invoice = client.get(f"/api/v1/invoices/{billed['invoice'].pk}/").json()
    assert invoice["number"] == billed["invoice"].number and invoice["total_incl_vat"] == "7.6200"
    assert invoice["pdf_url"].endswith(f"/api/v1/invoices/{billed['invoice'].pk}/pdf/")
    assert client.get(invoice["pdf_url"])["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_admins_issue_credit_notes_from_the_page_finance_cannot(tenant_a, make_user, login, billed):
    invoice = billed["invoice"]
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert "Issue credit note" not in finance.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert finance.post(f"/billing/invoices/{invoice.pk}/credit-note/", {"reason": "x"}).status_code == 403
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    assert "Issue credit note" in admin.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    page = admin.post(
        f"/billing/invoices/{invoice.pk}/credit-note/",
        {"amount_incl_vat": "2.50", "reason": "Slow charging"},
        follow=True,
    ).content.decode()
    assert "Credit note CN-" in page and "2.50 EUR" in page
    page = admin.post(
        f"/billing/invoices/{invoice.pk}/credit-note/", {"amount_incl_vat": "99", "reason": "Too much"}, follow=True
    ).content.decode()
    assert "can be credited" in page
    assert 'data-status="partially_credited"' in admin.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert invoice.number in admin.get("/billing/invoices/?status=partially_credited").content.decode()
    assert "Slow charging" in admin.get("/billing/credit-notes/").content.decode()


@pytest.mark.django_db
def test_tenant_b_sees_none_of_tenant_a(tenant_b, make_user, login, billed):
    client = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    for url in _pages(billed):
        response = client.get(url)
        if url.endswith(("/cdrs/", "/invoices/", "/credit-notes/")) or url.endswith(".csv"):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert response.status_code == 200 and billed["invoice"].number.encode() not in body
            assert billed["cdr"].cdr_id.encode() not in body, url
        else:
            assert response.status_code == 404, url
    assert client.get("/api/v1/cdrs/").json()["count"] == 0
    assert client.get("/api/v1/invoices/").json()["count"] == 0


@pytest.mark.django_db
def test_operator_admin_site_shows_records_read_only(tenant_a, make_user, login, billed):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    cdr = billed["cdr"]
    page = admin.get(f"/admin/billing/chargedetailrecord/{cdr.pk}/change/")
    assert page.status_code == 200 and b'type="submit"' not in page.content.split(b'id="content"')[1]
    assert admin.get("/admin/billing/chargedetailrecord/add/").status_code == 403
    assert admin.post(f"/admin/billing/chargedetailrecord/{cdr.pk}/delete/", {"post": "yes"}).status_code == 403
