import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context
from pypdf import PdfReader

from apps.accounts.models import Role, User
from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_connected, charge_point_create
from apps.charging.models import IdToken
from apps.qr.models import ConnectorCode, QrEvent
from apps.qr.services import connector_code_ensure, connector_codes_ensure, driver_token
from tests.conftest import host_of
from tests.factories.chargers import ConnectorFactory


@pytest.fixture
def charger(tenant_a, make_charge_point):
    cp = make_charge_point(identity="QR-CP", name="Town hall")
    with schema_context(tenant_a.schema_name):
        for n, status in ((1, "Available"), (2, "Faulted")):
            ConnectorFactory(charge_point=cp, connector_id=n, status=status)
        codes = connector_codes_ensure(charge_point=cp)
    return cp, codes


@pytest.mark.django_db
def test_codes_are_stable_unique_and_readable(in_tenant_a, charger):
    cp, codes = charger
    assert [c.connector_id for c in codes] == [1, 2]
    again = connector_codes_ensure(charge_point=cp)
    assert [c.code for c in again] == [c.code for c in codes]
    assert len({c.code for c in codes}) == 2
    assert all(len(c.code) == 8 and not set(c.code) & set("01OIL") for c in codes)


@pytest.mark.django_db
def test_public_page_shows_status_and_counts_scans(tenant_a, charger):
    cp, codes = charger
    client = Client(HTTP_HOST=host_of(tenant_a))
    with schema_context(tenant_a.schema_name):
        charge_point_connected(charge_point_id=cp.pk, connection_id="x", protocol_version="ocpp1.6")
    page = client.get(f"/c/{codes[0].code}/").content.decode()
    assert "Town hall" in page and "Available" in page and "Sign in to start" in page
    assert "Faulted" in client.get(f"/c/{codes[1].code.lower()}/").content.decode()  # codes are case-insensitive
    client.get(f"/c/{codes[0].code}/?partial=1")  # live refresh: not a scan
    with schema_context(tenant_a.schema_name):
        assert QrEvent.objects.filter(kind="scan").count() == 2
    # The sticker's URL has no trailing slash; it lands on the page.
    assert client.get(f"/c/{codes[0].code}", follow=True).status_code == 200


@pytest.mark.django_db
def test_start_needs_sign_in_and_offline_charger_is_refused_and_recorded(tenant_a, make_user, login, charger):
    cp, codes = charger
    anonymous = Client(HTTP_HOST=host_of(tenant_a))
    response = anonymous.post(f"/c/{codes[0].code}/start/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    driver = make_user(tenant_a, role=Role.DRIVER)
    client = login(tenant_a, driver)
    page = client.post(f"/c/{codes[0].code}/start/", follow=True).content.decode()
    assert "offline" in page
    with schema_context(tenant_a.schema_name):
        event = QrEvent.objects.get(kind="start_refused")
        assert event.user_id == driver.pk and "offline" in event.detail
        # The driver got an app token so the charger can authorise them later.
        assert IdToken.objects.get(owner=driver).type == IdToken.Type.CENTRAL


@pytest.mark.django_db
def test_driver_token_prefers_their_valid_card(in_tenant_a, make_user, tenant_a):
    from apps.charging.services import id_token_create

    driver = make_user(tenant_a, role=Role.DRIVER)
    connection.set_tenant(tenant_a)
    id_token_create(id_token="BLOCKED-1", owner=driver, status="Blocked")
    card = id_token_create(id_token="GOOD-1", owner=driver)
    assert driver_token(user=driver) == card


@pytest.mark.django_db
def test_qr_images_and_sticker_sheet(tenant_a, make_user, login, charger):
    cp, codes = charger
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    svg = client.get(f"/c/{codes[0].code}.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = client.get(f"/c/{codes[0].code}.png")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    pdf = client.get("/chargers/QR-CP/stickers.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for code in codes:
        assert code.code in text
    assert f"http://{host_of(tenant_a)}:8000/c/{codes[0].code}" in text.replace("\n", "")
    # Stickers are for staff; drivers and strangers get nothing.
    assert Client(HTTP_HOST=host_of(tenant_a)).get("/chargers/QR-CP/stickers.pdf").status_code == 302


@pytest.mark.django_db
def test_analytics_counts_scans_starts_and_conversion(tenant_a, make_user, login, charger):
    cp, codes = charger
    with schema_context(tenant_a.schema_name):
        for _ in range(4):
            QrEvent.objects.create(code=codes[0], kind="scan")
        QrEvent.objects.create(code=codes[0], kind="start")
    body = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN)).get("/qr/analytics/").content.decode()
    assert 'data-figure="scans">4<' in body and 'data-figure="starts">1<' in body
    assert 'data-figure="conversion">25%<' in body


@pytest.mark.django_db
def test_codes_do_not_cross_tenants(tenant_b, charger):
    cp, codes = charger
    assert Client(HTTP_HOST=host_of(tenant_b)).get(f"/c/{codes[0].code}/").status_code == 404


@pytest.mark.django_db
def test_driver_signup_from_the_qr_page(tenant_a, charger):
    cp, codes = charger
    client = Client(HTTP_HOST=host_of(tenant_a))
    next_url = f"/c/{codes[0].code}/"
    response = client.post(
        "/accounts/signup/",
        {
            "email": "New.Driver@example.com",
            "full_name": "New Driver",
            "password1": "plug-and-charge-7",
            "password2": "plug-and-charge-7",
            "next": next_url,
        },
    )
    assert response.status_code == 302 and response.url == next_url
    assert (
        "Start charging" in client.get(next_url).content.decode() or "offline" in client.get(next_url).content.decode()
    )
    with schema_context(tenant_a.schema_name):
        assert User.objects.get(email="new.driver@example.com").role == Role.DRIVER
    # An open redirect is not followed.
    other = Client(HTTP_HOST=host_of(tenant_a)).post(
        "/accounts/signup/",
        {
            "email": "x@example.com",
            "full_name": "X",
            "password1": "plug-and-charge-7",
            "password2": "plug-and-charge-7",
            "next": "https://evil.example/",
        },
    )
    assert other.url == "/"
    # Weak passwords are refused with a reason.
    weak = Client(HTTP_HOST=host_of(tenant_a)).post(
        "/accounts/signup/", {"email": "y@example.com", "full_name": "Y", "password1": "12345", "password2": "12345"}
    )
    assert weak.status_code == 200 and "too short" in weak.content.decode()


@pytest.mark.django_db
def test_platform_site_has_no_signup():
    assert Client(HTTP_HOST="localhost").get("/accounts/signup/").status_code == 404


def _in_thread(fn):
    """Committed ORM work on a connection of its own (the test's connection is in a transaction)."""

    def run():
        try:
            with schema_context("org_alpha"):
                return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_code_allocation_is_race_safe(db):
    """Several requests opening a new charger's page at once get one code per connector."""
    cp = _in_thread(lambda: charge_point_create(identity="RACE-CP", password="r" * 20))
    try:

        def ensure(_):
            try:
                with schema_context("org_alpha"):
                    return connector_code_ensure(charge_point=cp, connector_id=1).code
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=6) as pool:
            results = set(pool.map(ensure, range(12)))
        assert len(results) == 1
        assert _in_thread(lambda: ConnectorCode.objects.filter(charge_point=cp).count()) == 1
    finally:
        _in_thread(lambda: ChargePoint.objects.filter(pk=cp.pk).delete())


@pytest.mark.django_db
def test_qr_page_shows_the_effective_price_before_start(tenant_a, charger):
    from apps.tariffs.models import TariffAssignment
    from apps.tariffs.services import tariff_assign, tariff_import_ocpi

    cp, codes = charger
    client = Client(HTTP_HOST=host_of(tenant_a))
    assert "No price is published" in client.get(f"/c/{codes[0].code}/").content.decode()
    ocpi = {
        "country_code": "DE",
        "party_id": "EVZ",
        "id": "T1",
        "currency": "EUR",
        "last_updated": "2026-01-01T00:00:00Z",
        "elements": [{"price_components": [{"type": "ENERGY", "price": "0.3277", "vat": 19.0, "step_size": 1}]}],
    }
    cheaper = dict(
        ocpi,
        id="T2",
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.2000", "vat": 19.0, "step_size": 1}]}],
    )
    with schema_context(tenant_a.schema_name):
        everywhere = tariff_import_ocpi(data=ocpi)
        tariff_assign(tariff=everywhere, scope=TariffAssignment.Scope.ORGANIZATION)
        # A more specific assignment on the other connector's EVSE wins there.
        tariff_assign(
            tariff=tariff_import_ocpi(data=cheaper),
            scope=TariffAssignment.Scope.EVSE,
            scope_ref=f"{cp.identity}/{codes[1].evse_id}",
        )
    page = client.get(f"/c/{codes[0].code}/").content.decode()
    assert "0.39 EUR</strong> per kWh" in page
    assert "costs <strong>7.80 EUR</strong>" in page  # 20 kWh × 0.3277 × 1.19
    other = client.get(f"/c/{codes[1].code}/").content.decode()
    assert "0.24 EUR</strong> per kWh" in other
