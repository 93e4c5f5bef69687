"""OCPP 2.0.1 / 2.1 block B: the device model from NotifyReport (multi-part, out of order,
FullInventory replacing what we had) and from Get/SetVariables answers, and the vendor
template queued at a Pending boot -- for both versions."""

import pytest

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.devicemodel.models import Component, DeviceReport, TemplateApplication, VariableAttribute
from apps.devicemodel.vendortemplates import vendor_template_save
from tests.csms.harness import Harness

GENERATED = "2026-11-25T12:00:00Z"


def item(component, variable, value, *, mutability="ReadWrite", evse=None, chars=None, attr_type=None, instance=None):
    c = {"name": component}
    if evse:
        c["evse"] = evse
    v = {"name": variable}
    if instance:
        v["instance"] = instance
    attribute = {"mutability": mutability}
    if value is not None:  # WriteOnly attributes carry no value
        attribute["value"] = value
    if attr_type:
        attribute["type"] = attr_type
    out = {"component": c, "variable": v, "variableAttribute": [attribute]}
    if chars:
        out["variableCharacteristics"] = chars
    return out


def notify(h, request_id, seq_no, data, tbc=False):
    payload = {"requestId": request_id, "generatedAt": GENERATED, "seqNo": seq_no, "reportData": data}
    if tbc:
        payload["tbc"] = True
    assert h.ok("NotifyReport", payload) == {}


def stored(cp) -> dict:
    return {
        (a.variable.component.label, a.variable.name, a.type): a.value
        for a in VariableAttribute.objects.filter(variable__component__charge_point=cp).select_related(
            "variable__component"
        )
    }


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    version = "ocpp2.1" if request.param is V21Session else "ocpp2.0.1"
    cp = charge_point_create(identity="CP-DM", password="a-good-charger-password", protocol_version=version)
    return Harness(cp, request.param)


def test_full_inventory_replaces_the_model_once_the_last_part_is_in(h):
    notify(h, 1, 0, [item("OldCtrlr", "Gone", "1")])  # a report nobody asked for: merged
    h.answered("GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"}, {"status": "Accepted"})
    chars = {"dataType": "integer", "supportsMonitoring": False, "unit": "s", "minLimit": 0, "maxLimit": 3600}
    notify(h, 7, 0, [item("OCPPCommCtrlr", "OfflineThreshold", "300", chars=chars)], tbc=True)
    # Half an inventory changes nothing yet.
    assert stored(h.cp) == {("OldCtrlr", "Gone", "Actual"): "1"}
    assert DeviceReport.objects.get(charge_point=h.cp, request_id=7).status == "Receiving"
    notify(
        h,
        7,
        1,
        [
            item("EVSE", "Power", "22000", mutability="ReadOnly", evse={"id": 1}),
            item("Connector", "ConnectorType", "cType2", mutability="ReadOnly", evse={"id": 1, "connectorId": 1}),
        ],
    )
    assert stored(h.cp) == {
        ("OCPPCommCtrlr", "OfflineThreshold", "Actual"): "300",
        ("EVSE@1", "Power", "Actual"): "22000",
        ("Connector@1:1", "ConnectorType", "Actual"): "cType2",
    }
    report = DeviceReport.objects.get(charge_point=h.cp, request_id=7)
    assert (report.status, report.report_base, report.items) == ("Complete", "FullInventory", 3)
    variable = Component.objects.get(charge_point=h.cp, name="OCPPCommCtrlr").variables.get()
    assert (variable.unit, variable.data_type, variable.min_limit, variable.max_limit) == ("s", "integer", 0, 3600)
    assert variable.attributes.get().mutability == "ReadWrite"


def test_parts_out_of_order_and_repeated(h):
    h.answered("GetBaseReport", {"requestId": 9, "reportBase": "FullInventory"}, {"status": "Accepted"})
    notify(h, 9, 2, [item("C", "Two", "2")])  # the last part first
    notify(h, 9, 0, [item("A", "Zero", "0")], tbc=True)
    notify(h, 9, 0, [item("A", "Zero", "changed")], tbc=True)  # a retransmission
    assert stored(h.cp) == {}
    notify(h, 9, 1, [item("B", "One", "1")], tbc=True)
    assert stored(h.cp) == {("A", "Zero", "Actual"): "0", ("B", "One", "Actual"): "1", ("C", "Two", "Actual"): "2"}


def test_parts_before_the_answer_still_replace(h):
    """The NotifyReport can beat the GetBaseReport answer (two threads): the row is made
    by whichever comes first, and a FullInventory still replaces."""
    notify(h, 1, 0, [item("Old", "Gone", "x")])
    notify(h, 11, 0, [item("New", "Here", "y")])
    assert ("Old", "Gone", "Actual") in stored(h.cp)
    h.answered("GetBaseReport", {"requestId": 11, "reportBase": "FullInventory"}, {"status": "Accepted"})
    assert stored(h.cp) == {("New", "Here", "Actual"): "y"}
    assert DeviceReport.objects.get(charge_point=h.cp, request_id=11).status == "Complete"


def test_other_reports_merge_and_names_are_case_insensitive(h):
    notify(h, 3, 0, [item("OCPPCommCtrlr", "HeartbeatInterval", "300")])
    h.answered("GetReport", {"requestId": 4, "componentCriteria": ["Problem"]}, {"status": "Accepted"})
    notify(h, 4, 0, [item("ocppcommctrlr", "heartbeatinterval", "60"), item("AuthCtrlr", "Enabled", "true")])
    assert stored(h.cp) == {
        ("OCPPCommCtrlr", "HeartbeatInterval", "Actual"): "60",
        ("AuthCtrlr", "Enabled", "Actual"): "true",
    }
    report = DeviceReport.objects.get(charge_point=h.cp, request_id=4)
    assert report.criteria == {"componentCriteria": ["Problem"]} and report.status == "Complete"


def test_refused_report_is_recorded(h):
    h.answered("GetBaseReport", {"requestId": 5, "reportBase": "SummaryInventory"}, {"status": "NotSupported"})
    assert DeviceReport.objects.get(charge_point=h.cp, request_id=5).status == "NotSupported"


def test_write_only_and_passwords_are_never_stored(h):
    notify(
        h,
        1,
        0,
        [
            item("SecurityCtrlr", "BasicAuthPassword", None, mutability="WriteOnly"),
            item("SecurityCtrlr", "Identity", "CP-DM"),
        ],
    )
    h.answered(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                    "attributeValue": "a-new-secret-password",
                }
            ]
        },
        {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        },
    )
    attribute = VariableAttribute.objects.get(variable__name="BasicAuthPassword")
    assert attribute.value is None and attribute.last_set_value is None and attribute.last_set_status == "Accepted"


def test_get_and_set_variables_answers_update_the_model(h):
    notify(h, 1, 0, [item("OCPPCommCtrlr", "HeartbeatInterval", "300")])
    h.answered(
        "GetVariables",
        {"getVariableData": []},
        {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "120",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                },
                {
                    "attributeStatus": "Accepted",
                    "attributeType": "Target",
                    "attributeValue": "Available",
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "AvailabilityState"},
                },
                {"attributeStatus": "UnknownVariable", "component": {"name": "X"}, "variable": {"name": "Y"}},
            ]
        },
    )
    assert stored(h.cp) == {
        ("OCPPCommCtrlr", "HeartbeatInterval", "Actual"): "120",
        ("EVSE@1", "AvailabilityState", "Target"): "Available",
    }
    # GetVariables says nothing about mutability: what the report said stays.
    assert VariableAttribute.objects.get(variable__name="HeartbeatInterval").mutability == "ReadWrite"
    assert VariableAttribute.objects.get(variable__name="AvailabilityState").mutability == ""
    data = [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "60"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}, "attributeValue": "999"},
    ]
    h.answered(
        "SetVariables",
        {"setVariableData": data},
        {
            "setVariableResult": [
                {"attributeStatus": "RebootRequired", **{k: data[0][k] for k in ("component", "variable")}},
                {"attributeStatus": "Rejected", **{k: data[1][k] for k in ("component", "variable")}},
            ]
        },
    )
    attribute = VariableAttribute.objects.get(variable__name="HeartbeatInterval")
    assert (attribute.value, attribute.last_set_status, attribute.last_set_value) == ("60", "RebootRequired", "60")
    assert not VariableAttribute.objects.filter(variable__name="OfflineThreshold").exists()


def test_invalid_notify_report_is_refused(h):
    code, _ = h.error("NotifyReport", {"requestId": 1, "generatedAt": GENERATED})
    assert code == "OccurrenceConstraintViolation"
    code, _ = h.error("NotifyReport", {"requestId": -1, "generatedAt": GENERATED, "seqNo": 0})
    assert code == "PropertyConstraintViolation"


BOOT = {
    "chargingStation": {"model": "Wallbox X", "vendorName": "ACME", "firmwareVersion": "1.2.3"},
    "reason": "PowerUp",
}


def test_pending_boot_queues_the_vendor_template(h, django_capture_on_commit_callbacks):
    vendor_template_save(name="ACME defaults", vendor="acme", variables_text="OCPPCommCtrlr.OfflineThreshold = 300")
    vendor_template_save(name="Other", vendor="Other", variables_text="A.B = 1")
    ChargePoint.objects.filter(pk=h.cp.pk).update(registration_status="Pending")
    with django_capture_on_commit_callbacks() as callbacks:
        assert h.ok("BootNotification", BOOT)["status"] == "Pending"
    run = TemplateApplication.objects.get(charge_point=h.cp)
    assert (run.template_name, run.trigger, run.status) == ("ACME defaults", "pending_boot", "Queued")
    assert len(callbacks) == 1
    # The retry boot a moment later does not start a second run.
    assert h.ok("BootNotification", BOOT)["status"] == "Pending"
    assert TemplateApplication.objects.filter(charge_point=h.cp).count() == 1


def test_accepted_boot_applies_only_templates_that_ask_for_it(h):
    template = vendor_template_save(name="ACME", vendor="ACME", variables_text="A.B = 1")
    assert h.ok("BootNotification", BOOT)["status"] == "Accepted"
    assert not TemplateApplication.objects.exists()
    vendor_template_save(template=template, variables_text="A.B = 1", apply_on_accepted_boot=True)
    assert h.ok("BootNotification", BOOT)["status"] == "Accepted"
    assert TemplateApplication.objects.get().trigger == "accepted_boot"
