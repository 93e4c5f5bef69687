"""The operator's network pages: charger list with live summary, charger detail with
commands, message log search and sessions with their energy chart."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.services import charge_point_connected, charge_point_create, connector_status_record
from apps.charging.services import meter_values_record, transaction_start, transaction_stop
from apps.csms.models import Command, MessageLog


@pytest.fixture
def network(tenant_a):
    """Two chargers in tenant A: CP-ONE online and charging on connector 1, CP-TWO offline."""
    now = timezone.now()
    with schema_context(tenant_a.schema_name):
        one = charge_point_create(identity="CP-ONE", password="p" * 20, name="Depot east")
        two = charge_point_create(identity="CP-TWO", password="p" * 20)
        charge_point_connected(charge_point_id=one.pk, connection_id="c1", protocol_version="ocpp1.6")
        connector_status_record(
            charge_point_id=one.pk, evse_id=1, connector_id=1, status="Charging", timestamp=now, error_code="NoError"
        )
        connector_status_record(
            charge_point_id=one.pk,
            evse_id=2,
            connector_id=2,
            status="Faulted",
            timestamp=now,
            error_code="GroundFailure",
        )
        tx, _ = transaction_start(
            charge_point_id=one.pk,
            connector_id=1,
            id_tag="TAG-1",
            meter_start=1000,
            timestamp=now - timedelta(minutes=30),
        )
        meter_values_record(
            charge_point_id=one.pk,
            connector_id=1,
            transaction=tx,
            meter_values=[
                {
                    "timestamp": now - timedelta(minutes=30 - i * 10),
                    "sampled_value": [
                        {"value": str(1000 + i * 3000), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": str(11000 + i * 100), "measurand": "Power.Active.Import", "unit": "W"},
                    ],
                }
                for i in range(3)
            ],
        )
        MessageLog.objects.create(
            charge_point_id=one.pk,
            identity="CP-ONE",
            direction="in",
            message_type=2,
            action="Heartbeat",
            unique_id="hb-42",
            payload={},
        )
        MessageLog.objects.create(
            charge_point_id=one.pk,
            identity="CP-ONE",
            direction="out",
            message_type=3,
            action="Heartbeat",
            unique_id="hb-42",
            payload={"currentTime": "2026-01-01T00:00:00Z"},
        )
        MessageLog.objects.create(
            charge_point_id=one.pk,
            identity="CP-ONE",
            direction="in",
            message_type=0,
            raw="{not json",
            error_code="FormationViolation",
        )
    return {"one": one, "two": two, "tx": tx}


@pytest.mark.django_db
def test_charger_list_shows_live_state_and_summary(tenant_a, make_user, login, network):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    body = client.get("/chargers/").content.decode()
    assert "CP-ONE" in body and "CP-TWO" in body and "Depot east" in body
    assert 'data-figure="charging">1<' in body
    assert 'data-figure="faulted">1<' in body
    assert 'data-figure="offline">1<' in body
    assert f'href="/sessions/{network["tx"].pk}/"' in body  # the current session is linked
    # The live refresh endpoint returns just the fragment.
    partial = client.get("/chargers/?partial=1").content.decode()
    assert "<html" not in partial and "CP-ONE" in partial
    # Filters.
    offline = client.get("/chargers/?state=offline").content.decode()
    assert "CP-TWO" in offline and "CP-ONE" not in offline
    assert "CP-ONE" in client.get("/chargers/?state=faulted").content.decode()
    assert "CP-TWO" not in client.get("/chargers/?q=depot").content.decode()


@pytest.mark.django_db
def test_charger_detail_shows_state_history_and_messages(tenant_a, make_user, login, network):
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    body = client.get("/chargers/CP-ONE/").content.decode()
    assert "GroundFailure" in body and "Charging" in body
    assert "hb-42" in body and "FormationViolation" in body
    assert "{&quot;currentTime&quot;: &quot;2026-01-01T00:00:00Z&quot;}" in body  # payloads as JSON, not repr
    assert "Start on 1" in body and "Soft reset" in body  # technicians may operate
    found = client.get("/chargers/CP-ONE/messages/?q=FormationViolation").content.decode()
    assert "{not json" in found and "hb-42" not in found
    assert "hb-42" in client.get("/chargers/CP-ONE/messages/?action=heartbeat").content.decode()


@pytest.mark.django_db
def test_command_to_offline_charger_is_recorded_and_reported(tenant_a, make_user, login, network):
    user = make_user(tenant_a, role=Role.OPERATOR_STAFF)
    client = login(tenant_a, user)
    response = client.post("/chargers/CP-TWO/command/", {"action": "Reset", "payload": '{"type": "Soft"}'}, follow=True)
    body = response.content.decode()
    assert "charger offline" in body
    with schema_context(tenant_a.schema_name):
        command = Command.objects.get(charge_point=network["two"])
    assert command.action == "Reset" and command.status == Command.Status.OFFLINE and command.user_id == user.pk


@pytest.mark.django_db
def test_invalid_command_payload_is_refused_with_a_message(tenant_a, make_user, login, network):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    bad_json = client.post("/chargers/CP-ONE/command/", {"action": "Reset", "payload": "{oops"}, follow=True)
    assert "not valid JSON" in bad_json.content.decode()
    bad_schema = client.post(
        "/chargers/CP-ONE/command/", {"action": "Reset", "payload": '{"type": "Gentle"}'}, follow=True
    )
    assert "Reset:" in bad_schema.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Command.objects.exists()


@pytest.mark.django_db
def test_finance_sees_chargers_but_cannot_command(tenant_a, make_user, login, network):
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    page = client.get("/chargers/CP-ONE/").content.decode()
    assert "CP-ONE" in page and "Soft reset" not in page
    assert client.post("/chargers/CP-ONE/command/", {"action": "Reset", "payload": "{}"}).status_code == 403


@pytest.mark.django_db
def test_drivers_and_other_tenants_see_no_chargers(tenant_a, tenant_b, make_user, login, network):
    assert login(tenant_a, make_user(tenant_a, role=Role.DRIVER)).get("/chargers/").status_code == 403
    other = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert "CP-ONE" not in other.get("/chargers/").content.decode()
    assert other.get("/chargers/CP-ONE/").status_code == 404


@pytest.mark.django_db
def test_session_pages_show_energy_and_chart(tenant_a, make_user, login, network):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    tx = network["tx"]
    with schema_context(tenant_a.schema_name):
        transaction_stop(
            charge_point_id=network["one"].pk,
            transaction_id=tx.transaction_id,
            meter_stop=8500,
            timestamp=timezone.now(),
            reason="EVDisconnected",
        )
    listing = client.get("/sessions/?q=TAG-1").content.decode()
    assert "7.50 kWh" in listing and "EVDisconnected" in listing
    detail = client.get(f"/sessions/{tx.pk}/").content.decode()
    assert "7.50" in detail and "<polyline" in detail
    assert "peak 11200" in detail  # highest power sample, in W


@pytest.mark.django_db
def test_session_csv_export_follows_the_filters(tenant_a, make_user, login, network):
    import csv
    import io

    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    with schema_context(tenant_a.schema_name):
        transaction_stop(
            charge_point_id=network["one"].pk,
            transaction_id=network["tx"].transaction_id,
            meter_stop=4000,
            timestamp=timezone.now(),
            reason="Local",
        )
    response = client.get("/sessions/export.csv?q=TAG-1")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["charger"] == "CP-ONE" and rows[0]["energy_wh"] == "3000" and rows[0]["stop_reason"] == "Local"
    assert int(rows[0]["duration_s"]) >= 1800
    empty = client.get("/sessions/export.csv?q=nothing-matches")
    assert len(b"".join(empty.streaming_content).decode().splitlines()) == 1  # header only


@pytest.mark.django_db
def test_session_shows_running_cost_priced_like_its_cdr(tenant_a, make_user, login, network):
    from apps.tariffs.models import TariffAssignment
    from apps.tariffs.services import tariff_assign, tariff_import_ocpi

    with schema_context(tenant_a.schema_name):
        tariff = tariff_import_ocpi(
            data={
                "country_code": "DE",
                "party_id": "EVZ",
                "id": "RUN",
                "currency": "EUR",
                "last_updated": "2026-01-01T00:00:00Z",
                "elements": [
                    {"price_components": [{"type": "ENERGY", "price": "0.3277", "vat": 19.0, "step_size": 1}]}
                ],
            }
        )
        tariff_assign(tariff=tariff, scope=TariffAssignment.Scope.ORGANIZATION)
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    body = client.get(f"/sessions/{network['tx'].pk}/").content.decode()
    # Meter values so far: 1000 → 7000 Wh, i.e. 6 kWh × 0.3277 × 1.19 = 2.339778.
    assert 'data-figure="cost">2.34<' in body and "so far" in body


@pytest.mark.django_db
def test_charger_page_shows_live_power_of_the_running_session(tenant_a, make_user, login, network):
    body = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF)).get("/chargers/CP-ONE/").content.decode()
    # Latest samples: 11200 W and register 7000 Wh from a start at 1000 Wh.
    assert 'data-live-power="1">11.2 kW<' in body and "6.00 kWh" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, expected",
    [
        (
            {"action": "ChangeAvailability", "connectorId": "2", "type": "Inoperative"},
            {"connectorId": 2, "type": "Inoperative"},
        ),
        (
            {"action": "TriggerMessage", "requestedMessage": "MeterValues", "connectorId": "1"},
            {"requestedMessage": "MeterValues", "connectorId": 1},
        ),
        (
            {"action": "TriggerMessage", "requestedMessage": "Heartbeat", "connectorId": ""},
            {"requestedMessage": "Heartbeat"},
        ),
        (
            {"action": "ChangeConfiguration", "key": "HeartbeatInterval", "value": "120"},
            {"key": "HeartbeatInterval", "value": "120"},
        ),
        (
            {"action": "GetDiagnostics", "location": "ftp://diag.example/upload"},
            {"location": "ftp://diag.example/upload"},
        ),
        (
            {"action": "UpdateFirmware", "location": "https://fw.example/1.5.bin", "retrieveDate": "2026-03-02T17:30"},
            {"location": "https://fw.example/1.5.bin", "retrieveDate": "2026-03-02T16:30:00Z"},
        ),  # Berlin → UTC
    ],
)
def test_command_forms_build_ocpp_payloads(tenant_a, make_user, login, network, fields, expected):
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    client.post("/chargers/CP-TWO/command/", fields)  # CP-TWO is offline: recorded, not sent
    with schema_context(tenant_a.schema_name):
        command = Command.objects.get(charge_point=network["two"])
    assert command.action == fields["action"] and command.payload == expected


@pytest.mark.django_db
def test_session_filters_by_location_charger_driver_and_local_dates(tenant_a, make_user, login, network):
    from apps.chargers.models import Location
    from apps.charging.services import id_token_create

    driver = make_user(tenant_a, role=Role.DRIVER, email="filter.driver@alpha.example")
    with schema_context(tenant_a.schema_name):
        depot = Location.objects.create(name="Filter depot")
        cp = network["two"]
        cp.location = depot
        cp.save(update_fields=["location"])
        id_token_create(id_token="DRV-TAG", owner=driver)
        other, _ = transaction_start(
            charge_point_id=cp.pk, connector_id=1, id_tag="DRV-TAG", meter_start=0, timestamp=timezone.now()
        )
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))

    def ids(**params):
        body = client.get("/sessions/", params).content.decode()
        return {int(n) for n in re.findall(r'href="/sessions/(\d+)/"', body)}

    assert ids() == {network["tx"].pk, other.pk}
    assert ids(location=depot.pk) == {other.pk}
    assert ids(charger="CP-ONE") == {network["tx"].pk}
    assert ids(driver="filter.driver") == {other.pk}
    # Dates are the organisation's (Europe/Berlin): between 23:00 and 24:00 UTC its today is
    # already tomorrow in UTC terms.
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant_a.timezone))
    assert ids(date_from=today.isoformat(), date_to=today.isoformat()) >= {other.pk}
    assert ids(date_from=(today + timedelta(days=1)).isoformat()) == set()
    export = client.get("/sessions/export.csv", {"driver": "filter.driver"})
    assert "DRV-TAG" in b"".join(export.streaming_content).decode()


@pytest.mark.django_db
def test_session_timeline_and_idle_time(tenant_a, make_user, login, network):
    tx = network["tx"]
    with schema_context(tenant_a.schema_name):
        Command.objects.create(
            charge_point=network["one"],
            action="RemoteStopTransaction",
            payload={"transactionId": int(tx.transaction_id)},
            status="ok",
            source="api",
        )
        transaction_stop(
            charge_point_id=network["one"].pk,
            transaction_id=tx.transaction_id,
            meter_stop=7000,
            timestamp=timezone.now(),
            reason="Remote",
        )
    body = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF)).get(f"/sessions/{tx.pk}/").content.decode()
    timeline = body.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert (
        timeline.index("Started with TAG-1")
        < timeline.index("RemoteStopTransaction by api")
        < timeline.index("Stopped (Remote")
    )
    # Readings came 30, 20 and 10 minutes before the stop, each adding energy: idle for the last 10.
    idle = body.split("data-idle>")[1].split("<")[0].strip()
    assert idle.startswith("10 min") or idle.startswith("9 min")


@pytest.mark.django_db
def test_operator_accepts_a_pending_charger_from_its_page(tenant_a, make_user, login):
    from apps.chargers.models import ChargePoint

    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="NEW-1", password="n" * 20, registration_status="Pending")
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    page = client.get("/chargers/NEW-1/").content.decode()
    assert "This charger is pending" in page
    response = client.post("/chargers/NEW-1/registration/", {"decision": "accept"}, follow=True)
    assert "NEW-1 is accepted." in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert ChargePoint.objects.get(identity="NEW-1").registration_status == "Accepted"
    assert "This charger is" not in client.get("/chargers/NEW-1/").content.decode()
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.post("/chargers/NEW-1/registration/", {"decision": "reject"}).status_code == 403
