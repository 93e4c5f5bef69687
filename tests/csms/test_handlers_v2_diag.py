"""OCPP 2.x block N through the session: GetLog answers and LogStatusNotification,
monitoring commands' answers, NotifyMonitoringReport, NotifyEvent, CustomerInformation /
NotifyCustomerInformation -- for 2.0.1 and 2.1 alike."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.diagnostics import services as diag
from apps.diagnostics.models import LogStatusEvent, Monitor, MonitoringState, StationEvent, StationRequest
from tests.csms.harness import Harness

VERSIONS = {V201Session: "ocpp2.0.1", V21Session: "ocpp2.1"}
AT = "2026-11-25T10:00:00Z"


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-DIAG", password="a-good-charger-password")
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version=VERSIONS[request.param])
    cp.refresh_from_db()
    return Harness(cp, request.param)


def is21(h) -> bool:
    return isinstance(h.session, V21Session)


def cv(component="EVSE", variable="Power", evse=None):
    c = {"name": component}
    if evse is not None:
        c["evse"] = {"id": evse}
    return {"component": c, "variable": {"name": variable}}


# ------------------------------------------------------------------ N01 logs


def test_get_log_answer_and_status_timeline(h):
    lr = diag.log_request_create(charge_point=h.cp, log_type="DiagnosticsLog")
    action, payload = diag.log_request_payload(log_request=lr)
    assert action == "GetLog" and payload["requestId"] == lr.request_id
    assert payload["log"]["remoteLocation"].endswith(f"/diagnostics/upload/{lr.token}/")
    assert payload["log"]["remoteLocation"].startswith("http")
    h.answered("GetLog", payload, {"status": "Accepted", "filename": "station.log"})
    for status in ("Uploading", "Uploaded"):
        assert h.ok("LogStatusNotification", {"status": status, "requestId": lr.request_id}) == {}
    lr.refresh_from_db()
    assert (lr.answer, lr.station_filename, lr.status) == ("Accepted", "station.log", "Uploaded")
    assert [e.status for e in lr.timeline.all()] == ["Uploading", "Uploaded"]


def test_log_status_without_or_with_unknown_request_is_kept_unlinked(h):
    assert h.ok("LogStatusNotification", {"status": "Idle"}) == {}
    assert h.ok("LogStatusNotification", {"status": "UploadFailure", "requestId": 999}) == {}
    events = LogStatusEvent.objects.filter(charge_point=h.cp).order_by("id")
    assert [(e.status, e.request_id, e.log_request_id) for e in events] == [
        ("Idle", None, None),
        ("UploadFailure", 999, None),
    ]
    assert h.error("LogStatusNotification", {"status": "Lost"})[0] == "PropertyConstraintViolation"
    assert h.error("LogStatusNotification", {"status": "Idle", "requestId": -1})[0] == "PropertyConstraintViolation"


def test_request_ids_are_per_charger_and_increasing(h):
    a = diag.log_request_create(charge_point=h.cp, log_type="DiagnosticsLog")
    b = diag.log_request_create(charge_point=h.cp, log_type="SecurityLog")
    assert b.request_id == a.request_id + 1 and a.token != b.token and len(a.token) >= 40
    oldest = datetime(2026, 11, 1, tzinfo=UTC)
    c = diag.log_request_create(charge_point=h.cp, log_type="SecurityLog", oldest=oldest, latest=oldest + timedelta(1))
    _, payload = diag.log_request_payload(log_request=c, retries=2, retry_interval=60)
    assert payload["log"]["oldestTimestamp"] == "2026-11-01T00:00:00Z" and payload["retries"] == 2
    with pytest.raises(ValueError):
        diag.log_request_create(charge_point=h.cp, log_type="Everything")


# ------------------------------------------------------------------ monitoring


def test_set_variable_monitoring_keeps_the_ids_the_station_assigned(h):
    requested = [
        {"value": 11000, "type": "UpperThreshold", "severity": 4, **cv(evse=1)},
        {"value": 5, "type": "Delta", "severity": 7, **cv("Connector", "Temperature")},
        {"value": 1, "type": "Periodic", "severity": 8, **cv("Nope", "Nothing")},
    ]
    results = [
        # Deliberately not in request order.
        {"status": "Accepted", "id": 17, "type": "Delta", "severity": 7, **cv("Connector", "Temperature")},
        {"status": "Accepted", "id": 16, "type": "UpperThreshold", "severity": 4, **cv(evse=1)},
        {"status": "UnknownComponent", "type": "Periodic", "severity": 8, **cv("Nope", "Nothing")},
    ]
    h.answered("SetVariableMonitoring", {"setMonitoringData": requested}, {"setMonitoringResult": results})
    monitors = {m.monitor_id: m for m in Monitor.objects.filter(charge_point=h.cp)}
    assert set(monitors) == {16, 17}
    assert (monitors[16].value, monitors[16].evse_id, monitors[16].source) == (11000, 1, "set")
    assert (monitors[17].variable_name, monitors[17].value) == ("Temperature", 5)

    h.answered(
        "ClearVariableMonitoring",
        {"id": [16, 17]},
        {"clearMonitoringResult": [{"id": 16, "status": "Accepted"}, {"id": 17, "status": "Rejected"}]},
    )
    assert list(Monitor.objects.filter(charge_point=h.cp).values_list("monitor_id", flat=True)) == [17]


def test_monitoring_base_and_level_are_kept_when_accepted(h):
    h.answered("SetMonitoringBase", {"monitoringBase": "FactoryDefault"}, {"status": "Accepted"})
    h.answered("SetMonitoringLevel", {"severity": 5}, {"status": "Accepted"})
    h.answered("SetMonitoringLevel", {"severity": 9}, {"status": "Rejected"})
    state = MonitoringState.objects.get(charge_point=h.cp)
    assert (state.base, state.level) == ("FactoryDefault", 5)


def _report(request_id, seq_no, tbc, monitors):
    return {"requestId": request_id, "seqNo": seq_no, "tbc": tbc, "generatedAt": AT, "monitor": monitors}


def _mon(id, component="EVSE", variable="Power", v21=True, **extra):
    vm = {"id": id, "transaction": False, "value": 10.5, "type": "UpperThreshold", "severity": 3, **extra}
    if v21:  # 2.1 requires it, 2.0.1 does not know it
        vm.setdefault("eventNotificationType", "CustomMonitor")
    return {**cv(component, variable), "variableMonitoring": [vm]}


def test_monitoring_report_parts_out_of_order_replace_what_we_knew(h):
    old = Monitor.objects.create(
        charge_point=h.cp, monitor_id=99, component_name="Old", variable_name="Gone", type="Delta", value=1,
        severity=5, source="reported", updated_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    req = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.MONITORING_REPORT, params={})
    rid = req.request_id
    h.answered("GetMonitoringReport", req.params, {"status": "Accepted"})
    assert (
        h.ok("NotifyMonitoringReport", _report(rid, 2, False, [_mon(3, "Connector", "Temperature", v21=is21(h))])) == {}
    )
    assert h.ok("NotifyMonitoringReport", _report(rid, 0, True, [_mon(1, v21=is21(h))])) == {}
    req.refresh_from_db()
    assert not req.complete and Monitor.objects.filter(pk=old.pk).exists()  # seqNo 1 still missing
    assert h.ok("NotifyMonitoringReport", _report(rid, 1, True, [_mon(2, "EVSE", "Current", v21=is21(h))])) == {}
    # The same part again (the station never saw our answer) changes nothing.
    assert h.ok("NotifyMonitoringReport", _report(rid, 1, True, [_mon(2, "EVSE", "Current", v21=is21(h))])) == {}
    req.refresh_from_db()
    assert req.complete and req.answer == "Accepted" and req.parts.count() == 3
    assert sorted(Monitor.objects.filter(charge_point=h.cp).values_list("monitor_id", flat=True)) == [1, 2, 3]


def test_filtered_or_foreign_report_does_not_forget_other_monitors(h):
    Monitor.objects.create(
        charge_point=h.cp, monitor_id=50, component_name="Keep", variable_name="Me", type="Delta", value=1,
        severity=5, source="set", updated_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    params = {"monitoringCriteria": ["DeltaMonitoring"]}
    req = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.MONITORING_REPORT, params=params)
    h.ok("NotifyMonitoringReport", _report(req.request_id, 0, False, [_mon(1, v21=is21(h))]))
    # A report nobody here asked for (another tool's requestId): kept, nothing dropped.
    h.ok("NotifyMonitoringReport", _report(4242, 0, False, [_mon(2, v21=is21(h))]))
    assert sorted(Monitor.objects.filter(charge_point=h.cp).values_list("monitor_id", flat=True)) == [1, 2, 50]


def test_empty_monitoring_report_means_no_monitors(h):
    Monitor.objects.create(
        charge_point=h.cp, monitor_id=7, component_name="A", variable_name="B", type="Delta", value=1, severity=5,
        source="reported", updated_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    req = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.MONITORING_REPORT, params={})
    h.answered("GetMonitoringReport", req.params, {"status": "EmptyResultSet"})
    assert not Monitor.objects.filter(charge_point=h.cp).exists()


def test_v21_report_keeps_event_notification_type(in_tenant_a):
    cp = charge_point_create(identity="CP-DIAG21", password="a-good-charger-password")
    h = Harness(cp, V21Session)
    report = _report(5, 0, False, [_mon(1, eventNotificationType="PreconfiguredMonitor", type="TargetDelta")])
    assert h.ok("NotifyMonitoringReport", report) == {}
    assert Monitor.objects.get(charge_point=cp).event_notification_type == "PreconfiguredMonitor"
    # 2.0.1 knows neither the field nor the type.
    h201 = Harness(charge_point_create(identity="CP-DIAG201", password="a-good-charger-password"), V201Session)
    assert h201.error("NotifyMonitoringReport", report)[0] in ("FormatViolation", "PropertyConstraintViolation")
    assert h201.ok("NotifyMonitoringReport", _report(6, 0, False, [_mon(2, v21=False)])) == {}


# ------------------------------------------------------------------ NotifyEvent


def _event(event_id, ts=AT, **extra):
    return {
        "eventId": event_id,
        "timestamp": ts,
        "trigger": "Alerting",
        "actualValue": "87.5",
        "eventNotificationType": "CustomMonitor",
        **cv("Connector", "Temperature", evse=1),
        **extra,
    }


def test_notify_event_is_stored_and_severe_ones_alert(h):
    Monitor.objects.create(
        charge_point=h.cp, monitor_id=21, component_name="Connector", variable_name="Temperature",
        type="UpperThreshold", value=80, severity=2, source="set",
    )  # fmt: skip
    Monitor.objects.create(
        charge_point=h.cp, monitor_id=22, component_name="Connector", variable_name="Temperature",
        type="UpperThreshold", value=60, severity=6, source="set",
    )  # fmt: skip
    payload = {
        "generatedAt": AT,
        "seqNo": 0,
        "tbc": False,
        "eventData": [
            _event(1, variableMonitoringId=21, techCode="T-HOT", techInfo="connector hot"),
            _event(2, variableMonitoringId=22),
            _event(3, eventNotificationType="HardWiredNotification", trigger="Delta", actualValue="true"),
        ],
    }
    assert h.ok("NotifyEvent", payload) == {}
    assert h.ok("NotifyEvent", payload) == {}  # repeated: stored once
    events = {e.event_id: e for e in StationEvent.objects.filter(charge_point=h.cp)}
    assert len(events) == 3
    assert (events[1].severity, events[1].is_alert, events[1].tech_code, events[1].evse_id) == (2, True, "T-HOT", 1)
    assert (events[2].severity, events[2].is_alert) == (6, False)
    assert (events[3].severity, events[3].is_alert) == (None, False)
    assert events[1].timestamp == datetime(2026, 11, 25, 10, tzinfo=UTC)

    # The condition goes away: the cleared event resolves the alert.
    cleared = _event(4, ts="2026-11-25T10:05:00Z", variableMonitoringId=21, cleared=True, actualValue="70")
    h.ok("NotifyEvent", {"generatedAt": AT, "seqNo": 1, "eventData": [cleared]})
    events[1].refresh_from_db()
    assert events[1].resolved_at is not None and not events[1].alert_open


def test_alert_threshold_is_configurable(h):
    diag.diagnostics_settings_update(alert_max_severity=6)
    Monitor.objects.create(
        charge_point=h.cp, monitor_id=22, component_name="Connector", variable_name="Temperature",
        type="UpperThreshold", value=60, severity=6, source="set",
    )  # fmt: skip
    h.ok("NotifyEvent", {"generatedAt": AT, "seqNo": 0, "eventData": [_event(1, variableMonitoringId=22)]})
    assert StationEvent.objects.get(charge_point=h.cp).is_alert


def test_notify_event_rejects_bad_values(h):
    bad_time = {"generatedAt": AT, "seqNo": 0, "eventData": [_event(1, ts="yesterday")]}
    assert h.error("NotifyEvent", bad_time)[0] == "TypeConstraintViolation"
    bad_trigger = {"generatedAt": AT, "seqNo": 0, "eventData": [_event(1, trigger="Sometimes")]}
    assert h.error("NotifyEvent", bad_trigger)[0] == "PropertyConstraintViolation"
    assert not StationEvent.objects.filter(charge_point=h.cp).exists()


def test_v21_event_severity_is_taken_from_the_event(in_tenant_a):
    h = Harness(charge_point_create(identity="CP-EV21", password="a-good-charger-password"), V21Session)
    h.ok("NotifyEvent", {"generatedAt": AT, "seqNo": 0, "eventData": [_event(1, severity=0)]})
    event = StationEvent.objects.get(charge_point=h.cp)
    assert (event.severity, event.is_alert) == (0, True)
    assert h.error("NotifyEvent", {"generatedAt": AT, "seqNo": 0, "eventData": [_event(2, severity=12)]})[0] == (
        "PropertyConstraintViolation"
    )


# ------------------------------------------------------------------ customer information


def _info(request_id, seq_no, tbc, data):
    return {"requestId": request_id, "seqNo": seq_no, "tbc": tbc, "generatedAt": AT, "data": data}


def test_customer_information_parts_are_assembled_in_order(h):
    params = {"report": True, "clear": False, "idToken": {"idToken": "AA11", "type": "ISO14443"}}
    req = diag.station_request_create(charge_point=h.cp, kind=StationRequest.Kind.CUSTOMER_INFORMATION, params=params)
    h.answered("CustomerInformation", req.params, {"status": "Accepted"})
    rid = req.request_id
    assert h.ok("NotifyCustomerInformation", _info(rid, 2, False, "tx=3;")) == {}
    assert h.ok("NotifyCustomerInformation", _info(rid, 0, True, "token=AA11;")) == {}
    req.refresh_from_db()
    assert not req.complete and req.document == ""
    assert h.ok("NotifyCustomerInformation", _info(rid, 1, True, "cache=Accepted;")) == {}
    req.refresh_from_db()
    assert req.complete and req.answer == "Accepted"
    assert req.document == "token=AA11;cache=Accepted;tx=3;"


def test_customer_information_for_a_request_we_did_not_make_is_kept(h):
    h.ok("NotifyCustomerInformation", _info(77, 0, False, "nothing stored"))
    req = StationRequest.objects.get(charge_point=h.cp, kind="CustomerInformation", request_id=77)
    assert req.complete and req.document == "nothing stored"
