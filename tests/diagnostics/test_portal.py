"""Portal pages: diagnostics (logs, events, alerts), monitoring, customer data, display
messages -- roles, the commands they send, and what they show.

The command bus is replaced by a fake that validates the payload against the charger's
schema, answers like a station, and runs the session's answered_* bookkeeping, as the
process holding the socket would."""

from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargerEvent, Location
from apps.chargers.services import charge_point_create
from apps.csms.handlers import session_class
from apps.diagnostics import services as diag
from apps.diagnostics.models import DisplayMessage, LogRequest, Monitor, StationEvent, StationRequest
from tests.csms.harness import Harness


@pytest.fixture
def bus(command_bus):
    """The command bus, with the session's answered_* bookkeeping run on every answer."""
    command_bus.after = lambda charge_point, action, payload, answer: Harness(
        charge_point, session_class(charge_point.protocol_version)
    ).answered(action, payload, answer)
    return command_bus


@pytest.fixture
def cp(make_charge_point):
    return make_charge_point(identity="CP-P", ocpp201=True)


@pytest.fixture
def as_role(tenant_a, make_user, login):
    def make(role):
        return login(tenant_a, make_user(tenant_a, role=role))

    return make


URLS = ["diagnostics", "monitoring", "display-messages"]


@pytest.mark.parametrize("page", URLS + ["customer-information"])
def test_drivers_and_finance_see_no_diagnostics(as_role, cp, page):
    for role in (Role.DRIVER, Role.FINANCE):
        assert as_role(role).get(f"/chargers/CP-P/{page}/").status_code == 403
    assert as_role(Role.OPERATOR_ADMIN).get(f"/chargers/CP-P/{page}/").status_code == 200


def test_technician_sees_diagnostics_but_not_customer_data(as_role, cp):
    client = as_role(Role.TECHNICIAN)
    for page in URLS:
        assert client.get(f"/chargers/CP-P/{page}/").status_code == 200
    assert client.get("/chargers/CP-P/customer-information/").status_code == 403


def test_anonymous_goes_to_login(client_a, cp):
    assert client_a.get("/chargers/CP-P/diagnostics/").status_code == 302


def test_request_a_log_and_download_it(as_role, cp, bus, tenant_a):
    client = as_role(Role.OPERATOR_STAFF)
    bus.by_action["GetLog"] = {"status": "Accepted", "filename": "cp-p.log"}
    response = client.post(
        "/chargers/CP-P/diagnostics/log/",
        {"log_type": "SecurityLog", "oldest": "2026-11-20T08:00", "latest": "2026-11-21T08:00"},
    )
    assert response.status_code == 302
    action, payload = bus.sent[0]
    assert action == "GetLog" and payload["logType"] == "SecurityLog"
    assert payload["log"]["remoteLocation"].startswith(f"http://{tenant_a.primary_domain.domain}")
    with schema_context(tenant_a.schema_name):
        lr = LogRequest.objects.get(charge_point=cp)
        assert (lr.answer, lr.station_filename, lr.request_id) == ("Accepted", "cp-p.log", payload["requestId"])
        assert payload["log"]["oldestTimestamp"].startswith("2026-11-2")
        h = Harness(cp, session_class("ocpp2.0.1"))
        h.ok("LogStatusNotification", {"status": "Uploading", "requestId": lr.request_id})
    # The station uploads to the target it was given.
    assert client.put(urlsplit(payload["log"]["remoteLocation"]).path, b"log line\n").status_code == 201
    with schema_context(tenant_a.schema_name):
        h.ok("LogStatusNotification", {"status": "Uploaded", "requestId": lr.request_id})
    page = client.get("/chargers/CP-P/diagnostics/").content.decode()
    assert "cp-p.log" in page and "Uploading" in page and "Uploaded" in page
    download = client.get(f"/chargers/CP-P/diagnostics/log/{lr.pk}/file/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"log line\n"
    assert "attachment" in download["Content-Disposition"]
    # Drivers may not download, and a file is only reachable under its own charger.
    assert as_role(Role.DRIVER).get(f"/chargers/CP-P/diagnostics/log/{lr.pk}/file/").status_code == 403
    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="CP-OTHER", password="a-good-charger-password")
    assert client.get(f"/chargers/CP-OTHER/diagnostics/log/{lr.pk}/file/").status_code == 404


def test_offline_charger_log_request_is_recorded(as_role, cp, bus, tenant_a):
    bus.status = "offline"
    response = as_role(Role.OPERATOR_ADMIN).post("/chargers/CP-P/diagnostics/log/", {"log_type": "DiagnosticsLog"})
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert LogRequest.objects.get(charge_point=cp).answer == "offline"


def test_ocpp16_charger_gets_get_diagnostics_with_the_same_target(as_role, bus, tenant_a):
    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="CP-16", password="a-good-charger-password")
    bus.by_action["GetDiagnostics"] = {"fileName": "diag-16.zip"}
    client = as_role(Role.TECHNICIAN)
    client.post("/chargers/CP-16/diagnostics/log/", {"log_type": "DiagnosticsLog"})
    action, payload = bus.sent[0]
    assert action == "GetDiagnostics" and "/diagnostics/upload/" in payload["location"]
    with schema_context(tenant_a.schema_name):
        lr = LogRequest.objects.get(charge_point__identity="CP-16")
        assert (lr.log_type, lr.answer, lr.station_filename) == ("GetDiagnostics", "Accepted", "diag-16.zip")
        ChargerEvent.objects.create(
            charge_point=lr.charge_point, kind="DiagnosticsStatusNotification", status="Uploading"
        )
    # The 1.6 charger appends its file name to the location.
    token = payload["location"].rstrip("/").rsplit("/", 1)[1]
    assert client.put(f"/diagnostics/upload/{token}/diag-16.zip", b"PK").status_code == 201
    page = client.get("/chargers/CP-16/diagnostics/").content.decode()
    assert "Uploading" in page and "diag-16.zip" in page


def _event(cp, event_id, severity, **extra):
    return StationEvent.objects.create(
        charge_point=cp,
        event_id=event_id,
        timestamp=timezone.now(),
        trigger="Alerting",
        actual_value="90",
        event_notification_type="CustomMonitor",
        component_name=extra.pop("component", "Connector"),
        variable_name="Temperature",
        severity=severity,
        is_alert=severity is not None and severity <= 3,
        **extra,
    )


def test_events_filters_chart_and_alerts(as_role, cp, tenant_a):
    with schema_context(tenant_a.schema_name):
        alert = _event(cp, 1, 2, tech_info="too hot")
        _event(cp, 2, 7, component="PowerModule", cleared=True)
        _event(cp, 3, None, component="Controller")
    client = as_role(Role.OPERATOR_STAFF)
    page = client.get("/chargers/CP-P/diagnostics/").content.decode()
    assert 'id="alerts"' in page and f'data-alert="{alert.pk}"' in page and "too hot" in page
    assert page.count("data-event=") == 3 and '<svg class="chart"' in page
    only_severe = client.get("/chargers/CP-P/diagnostics/?severity=3").content.decode()
    assert only_severe.count("data-event=") == 1
    assert client.get("/chargers/CP-P/diagnostics/?component=power").content.decode().count("data-event=") == 1
    assert client.get("/chargers/CP-P/diagnostics/?cleared=no").content.decode().count("data-event=") == 2
    assert client.get("/chargers/CP-P/diagnostics/?severity=zzz").status_code == 200

    client.post(f"/chargers/CP-P/diagnostics/events/{alert.pk}/acknowledge/")
    assert 'id="alerts"' not in client.get("/chargers/CP-P/diagnostics/").content.decode()


def test_alert_threshold_is_for_admins(as_role, cp, tenant_a):
    assert (
        as_role(Role.TECHNICIAN).post("/chargers/CP-P/diagnostics/settings/", {"alert_max_severity": 5}).status_code
        == 403
    )
    as_role(Role.OPERATOR_ADMIN).post("/chargers/CP-P/diagnostics/settings/", {"alert_max_severity": 5})
    with schema_context(tenant_a.schema_name):
        assert diag.diagnostics_settings_get().alert_max_severity == 5


def test_monitoring_page_commands(as_role, cp, bus, tenant_a):
    client = as_role(Role.TECHNICIAN)

    def accept(payload):
        item = payload["setMonitoringData"][0]
        return {
            "setMonitoringResult": [
                {"status": "Accepted", "id": 31, **{k: item[k] for k in ("type", "severity", "component", "variable")}}
            ]
        }

    bus.by_action["SetVariableMonitoring"] = accept
    form = {
        "op": "add",
        "component": "EVSE",
        "evse_id": "1",
        "variable": "Power",
        "type": "UpperThreshold",
        "value": "11000",
        "severity": "3",
    }
    client.post("/chargers/CP-P/monitoring/command/", form)
    assert bus.sent[-1] == (
        "SetVariableMonitoring",
        {
            "setMonitoringData": [
                {
                    "value": 11000.0,
                    "type": "UpperThreshold",
                    "severity": 3,
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                }
            ]
        },
    )
    page = client.get("/chargers/CP-P/monitoring/").content.decode()
    assert 'data-monitor="31"' in page

    bus.by_action["ClearVariableMonitoring"] = {"clearMonitoringResult": [{"id": 31, "status": "Accepted"}]}
    client.post("/chargers/CP-P/monitoring/command/", {"op": "clear", "id": ["31"]})
    assert bus.sent[-1] == ("ClearVariableMonitoring", {"id": [31]})
    with schema_context(tenant_a.schema_name):
        assert not Monitor.objects.filter(charge_point=cp).exists()

    client.post("/chargers/CP-P/monitoring/command/", {"op": "level", "severity": "4"})
    assert bus.sent[-1] == ("SetMonitoringLevel", {"severity": 4})
    # A new base changes the station's monitors: the page reads them again at once.
    client.post("/chargers/CP-P/monitoring/command/", {"op": "base", "base": "HardWiredOnly"})
    assert [a for a, _ in bus.sent[-2:]] == ["SetMonitoringBase", "GetMonitoringReport"]
    with schema_context(tenant_a.schema_name):
        report = StationRequest.objects.get(charge_point=cp, kind="MonitoringReport")
        assert report.answer == "Accepted" and bus.sent[-1][1] == {"requestId": report.request_id}

    before = len(bus.sent)
    response = client.post("/chargers/CP-P/monitoring/command/", {**form, "severity": "12"}, follow=True)
    assert len(bus.sent) == before and "between 0 and 9" in response.content.decode()


def test_monitoring_needs_ocpp2(as_role, bus, tenant_a):
    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="CP-OLD", password="a-good-charger-password")
    client = as_role(Role.OPERATOR_ADMIN)
    assert "needs OCPP 2.0.1 or 2.1" in client.get("/chargers/CP-OLD/monitoring/").content.decode()
    client.post("/chargers/CP-OLD/monitoring/command/", {"op": "report"})
    assert bus.sent == []


def test_customer_information_report_and_result(as_role, cp, bus, tenant_a):
    client = as_role(Role.OPERATOR_ADMIN)
    response = client.post(
        "/chargers/CP-P/customer-information/",
        {"id_token": "04A1B2", "id_token_type": "ISO14443", "report": "1", "clear": "1"},
    )
    assert response.status_code == 302 and "?request=" in response["Location"]
    action, payload = bus.sent[0]
    assert action == "CustomerInformation"
    assert payload == {
        "report": True,
        "clear": True,
        "idToken": {"idToken": "04A1B2", "type": "ISO14443"},
        "requestId": payload["requestId"],
    }
    with schema_context(tenant_a.schema_name):
        h = Harness(cp, session_class("ocpp2.0.1"))
        for seq, tbc, data in ((1, False, "tx 12 on EVSE 1"), (0, True, "04A1B2 cached Accepted; ")):
            h.ok(
                "NotifyCustomerInformation",
                {
                    "data": data,
                    "seqNo": seq,
                    "tbc": tbc,
                    "generatedAt": "2026-11-25T10:00:00Z",
                    "requestId": payload["requestId"],
                },
            )
    page = client.get(response["Location"]).content.decode()
    assert "04A1B2 cached Accepted; tx 12 on EVSE 1" in page and "complete" in page

    before = len(bus.sent)
    client.post("/chargers/CP-P/customer-information/", {"report": "1"})  # nobody named
    assert len(bus.sent) == before
    prefilled = client.get("/chargers/CP-P/customer-information/?id_token=XYZ&type=eMAID").content.decode()
    assert 'value="XYZ"' in prefilled


def test_display_messages_compose_list_and_clear(as_role, cp, bus, tenant_a):
    client = as_role(Role.OPERATOR_STAFF)
    client.post(
        "/chargers/CP-P/display-messages/",
        {
            "op": "set",
            "message_id": "1",
            "priority": "InFront",
            "state": "Idle",
            "format": "UTF8",
            "language": "en",
            "content": "Welcome!",
            "start": "2026-11-25T08:00",
        },
    )
    action, payload = bus.sent[-1]
    assert action == "SetDisplayMessage"
    assert payload["message"]["message"] == {"format": "UTF8", "content": "Welcome!", "language": "en"}
    assert payload["message"]["id"] == 1 and payload["message"]["startDateTime"].endswith("Z")
    page = client.get("/chargers/CP-P/display-messages/").content.decode()
    assert 'data-message="1"' in page and "Welcome!" in page and 'id="msg-preview"' in page
    assert 'name="message_id" value="2"' in page

    bus.by_action["ClearDisplayMessage"] = {"status": "Accepted"}
    client.post("/chargers/CP-P/display-messages/", {"op": "clear", "id": "1"})
    assert bus.sent[-1] == ("ClearDisplayMessage", {"id": 1})
    with schema_context(tenant_a.schema_name):
        assert not DisplayMessage.objects.filter(charge_point=cp).exists()
        DisplayMessage.objects.create(charge_point=cp, message_id=7, priority="NormalCycle", format="UTF8", content="x")
    # The station says it shows nothing (Unknown to an unfiltered request): the list empties.
    bus.by_action["GetDisplayMessages"] = {"status": "Unknown"}
    client.post("/chargers/CP-P/display-messages/", {"op": "refresh"})
    assert bus.sent[-1][0] == "GetDisplayMessages"
    with schema_context(tenant_a.schema_name):
        assert not DisplayMessage.objects.filter(charge_point=cp).exists()

    before = len(bus.sent)
    client.post("/chargers/CP-P/display-messages/", {"op": "set", "format": "ASCII", "content": "Grüße"})
    client.post("/chargers/CP-P/display-messages/", {"op": "set", "content": "   "})
    assert len(bus.sent) == before


def test_display_message_to_a_location(as_role, tenant_a, django_capture_on_commit_callbacks, monkeypatch):
    with schema_context(tenant_a.schema_name):
        site = Location.objects.create(name="Depot")
        for identity, version in (("CP-L1", "ocpp2.0.1"), ("CP-L2", "ocpp2.1"), ("CP-L3", "ocpp1.6")):
            cp = charge_point_create(identity=identity, password="a-good-charger-password", protocol_version=version)
            cp.location = site
            cp.save(update_fields=["location"])
    queued = []
    monkeypatch.setattr("apps.csms.commands.send_command.delay", lambda *args: queued.append(args))
    client = as_role(Role.OPERATOR_ADMIN)
    page = client.get(f"/locations/{site.pk}/display-message/").content.decode()
    assert "CP-L1" in page and "CP-L2" in page and "CP-L3" not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/locations/{site.pk}/display-message/",
            {"priority": "NormalCycle", "format": "UTF8", "content": "Closed Sunday"},
        )
    assert sorted(a[1] for a in queued) == ["SetDisplayMessage", "SetDisplayMessage"]
    assert all(a[2]["message"]["message"]["content"] == "Closed Sunday" for a in queued)


def test_log_file_is_stored_for_download_only_with_permission(as_role, cp, tenant_a):
    with schema_context(tenant_a.schema_name):
        lr = diag.log_request_create(charge_point=cp, log_type="DiagnosticsLog")
        diag.log_upload_store(token=lr.token, content=ContentFile(b"abc", name="a.log"), filename="a.log")
    assert as_role(Role.FINANCE).get(f"/chargers/CP-P/diagnostics/log/{lr.pk}/file/").status_code == 403
    assert as_role(Role.TECHNICIAN).get(f"/chargers/CP-P/diagnostics/log/{lr.pk}/file/").status_code == 200


def test_customer_data_from_a_card(as_role, cp, tenant_a):
    from apps.charging.services import id_token_create

    with schema_context(tenant_a.schema_name):
        token = id_token_create(id_token="04A1B2")
        charge_point_create(identity="CP-16B", password="a-good-charger-password")
    assert as_role(Role.OPERATOR_STAFF).get(f"/cards/{token.pk}/customer-information/").status_code == 403
    page = as_role(Role.OPERATOR_ADMIN).get(f"/cards/{token.pk}/customer-information/").content.decode()
    assert "/chargers/CP-P/customer-information/?id_token=04A1B2&amp;type=ISO14443" in page
    assert "CP-16B" not in page
