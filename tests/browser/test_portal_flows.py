"""The operator's and the driver's key flows in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import Role
from tests.conftest import PASSWORD

CHARGER_PASSWORD = "browser-charger-pass-1"

# A real browser against the live server: the browser tier, and end to end like the OCPP tests.
pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _sign_in(page, server, email):
    page.goto(f"http://{server.host}:{server.port}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("main")).not_to_contain_text("Sign in")


def _user(server, role, email):
    from tests.factories.accounts import UserFactory

    return server.run(UserFactory, role=role, email=email)


@pytest.mark.django_db
def test_operator_sees_charger_go_online_then_starts_and_stops_a_session(page, e2e_db, simulator):
    from apps.chargers.services import charge_point_create
    from apps.charging.services import id_token_create

    e2e_db.run(charge_point_create, identity="BRW-0001", password=CHARGER_PASSWORD, name="Browser bay")
    e2e_db.run(id_token_create, id_token="BROWSER-TAG")
    _user(e2e_db, Role.OPERATOR_STAFF, "ops@browser.example")
    _sign_in(page, e2e_db, "ops@browser.example")

    page.goto(f"http://{e2e_db.host}:{e2e_db.port}/chargers/")
    row = page.locator("tr[data-charger='BRW-0001']")
    expect(row).to_contain_text("Offline")
    simulator("BRW-", CHARGER_PASSWORD)
    # The list refreshes itself; no reload.
    expect(row).to_contain_text("Online", timeout=20_000)
    expect(row).to_contain_text("1: Available", timeout=20_000)

    row.get_by_role("link", name="BRW-0001").click()
    page.locator("input[name=id_tag]").first.fill("BROWSER-TAG")
    page.get_by_role("button", name="Start on 1").click()
    expect(page.locator("#command-result")).to_contain_text("RemoteStartTransaction")
    try:
        expect(page.locator("#command-result")).to_contain_text('"status": "Accepted"')
    except AssertionError:
        from apps.chargers.models import ChargePoint
        from apps.csms.models import Command

        print(e2e_db.run(lambda: list(Command.objects.values("action", "status", "latency_ms"))))
        print(e2e_db.run(lambda: list(ChargePoint.objects.values("identity", "online", "connection_id"))))
        print(e2e_db.log()[-3000:])
        raise

    # The charger starts the transaction; its stop button appears once it is recorded.
    stop = page.get_by_role("button", name=re.compile(r"Stop session #\d+"))
    for _ in range(40):
        if stop.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    stop.click()
    expect(page.locator("#command-result")).to_contain_text("RemoteStopTransaction")
    expect(page.locator("#command-result")).to_contain_text('"status": "Accepted"')
    page.goto(f"http://{e2e_db.host}:{e2e_db.port}/sessions/?q=BROWSER-TAG")
    expect(page.locator("tbody")).to_contain_text("BRW-0001")


@pytest.mark.django_db
def test_card_import_with_one_bad_row_imports_nothing(page, e2e_db, tmp_path):
    from apps.charging.models import IdToken

    _user(e2e_db, Role.OPERATOR_ADMIN, "admin2@browser.example")
    _sign_in(page, e2e_db, "admin2@browser.example")
    csv = tmp_path / "cards.csv"
    csv.write_text("id_token,type,status,label\nGOOD-1,ISO14443,Accepted,ok\nBAD-2,ISO14443,Sleeping,bad status\n")
    page.goto(f"http://{e2e_db.host}:{e2e_db.port}/cards/import/")
    page.set_input_files("input[type=file]", str(csv))
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(page.locator("main")).to_contain_text("fix the file first")
    expect(page.locator("tr.row-error")).to_contain_text("BAD-2")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    assert e2e_db.run(lambda: IdToken.objects.filter(id_token__in=["GOOD-1", "BAD-2"]).count()) == 0


@pytest.mark.django_db
def test_driver_scans_qr_signs_in_starts_and_stops(page, e2e_db, simulator):
    from apps.chargers.models import ChargePoint
    from apps.chargers.services import charge_point_create
    from apps.qr.services import connector_codes_ensure

    e2e_db.run(charge_point_create, identity="QRB-0001", password=CHARGER_PASSWORD, name="Station square")
    _user(e2e_db, Role.DRIVER, "driver@browser.example")
    simulator("QRB-", CHARGER_PASSWORD)

    def code():
        cp = ChargePoint.objects.get(identity="QRB-0001")
        # Connector 0 (the whole charger) reports first; codes exist only for connectors 1+.
        codes = connector_codes_ensure(charge_point=cp) if cp.online else []
        return codes[0].code if codes else None

    for _ in range(120):  # generous: CI machines are shared
        value = e2e_db.run(code)
        if value:
            break
        page.wait_for_timeout(250)
    assert value, "the simulated charger did not come online"

    page.goto(f"http://{e2e_db.host}:{e2e_db.port}/c/{value}")  # what the sticker encodes
    expect(page.locator("main")).to_contain_text("Station square")
    page.get_by_role("link", name="Sign in to start").click()
    page.fill("#id_username", "driver@browser.example")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("button", name="Start charging").click()
    expect(page.locator(".messages")).to_contain_text("Starting")
    # The page follows the session live: the charger reports Charging and meter values.
    expect(page.locator("#live")).to_contain_text("your session", timeout=30_000)
    page.get_by_role("button", name="Stop charging").click()
    expect(page.locator(".messages")).to_contain_text("Stopping")


@pytest.mark.django_db
def test_locations_map_shows_markers_without_tiles(page, e2e_db):
    """No internet here, so no tile loads: the markers must still be drawn."""
    from apps.chargers.models import Location

    e2e_db.run(Location.objects.create, name="North", latitude="53.0", longitude="10.0")
    e2e_db.run(Location.objects.create, name="South", latitude="48.1", longitude="11.6")
    _user(e2e_db, Role.OPERATOR_STAFF, "maps@browser.example")
    _sign_in(page, e2e_db, "maps@browser.example")
    page.goto(f"http://{e2e_db.host}:{e2e_db.port}/locations/")
    markers = page.locator("#map path.leaflet-interactive")
    expect(markers).to_have_count(2)
    markers.first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("chargers")
