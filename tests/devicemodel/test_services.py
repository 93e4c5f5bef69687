"""Device model command services: splitting by the charger's ItemsPerMessage and
BytesPerMessage, merged answers, reports, vendor templates on a Pending charger, password
rotation and the security profile upgrade -- with command_send replaced by a fake charger."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.chargers.models import ChargePoint
from apps.chargers.passwords import check_charger_password
from apps.csms.commands import InvalidCommand
from apps.devicemodel import provisioning, security
from apps.devicemodel.models import DeviceReport, PasswordRotation, SecurityProfileUpgrade, TemplateApplication
from apps.devicemodel.services import report_part_record
from apps.devicemodel.vendortemplates import (
    template_lines_format,
    template_lines_parse,
    vendor_template_match,
    vendor_template_save,
)
from tests.factories.chargers import ChargePointFactory

PASSWORD = "a-good-charger-password"


def answer_like_a_station(bus):
    """Set/GetVariables answered per item, as a station does; `bus.set_status[name]`
    scripts one variable's attributeStatus."""
    bus.set_status = {}
    bus.by_action["SetVariables"] = lambda payload: {
        "setVariableResult": [
            {
                "attributeStatus": bus.set_status.get(d["variable"]["name"], "Accepted"),
                "component": d["component"],
                "variable": d["variable"],
            }
            for d in payload["setVariableData"]
        ]
    }
    bus.by_action["GetVariables"] = lambda payload: {
        "getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "1", **d} for d in payload["getVariableData"]
        ]
    }
    return bus

    def actions(self):
        return [a for a, _ in self.sent]


@pytest.fixture
def fake(command_bus):
    return answer_like_a_station(command_bus)


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="CP-DM", password=PASSWORD, ocpp201=True)


def limits(cp, instance, items=None, size=None):
    data = []
    for name, value in (("ItemsPerMessage", items), ("BytesPerMessage", size)):
        if value is not None:
            data.append(
                {
                    "component": {"name": "DeviceDataCtrlr"},
                    "variable": {"name": name, "instance": instance},
                    "variableAttribute": [{"value": str(value), "mutability": "ReadOnly"}],
                }
            )
    report_part_record(
        charge_point_id=cp.pk, request_id=99, seq_no=0, generated_at=timezone.now(), tbc=False, report_data=data
    )


def variables(n):
    return [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": f"Var{i}"}, "attributeValue": str(i)}
        for i in range(n)
    ]


def test_items_per_message_two_splits_five_variables_into_three_calls(cp, fake):
    limits(cp, "SetVariables", items=2, size=65000)
    batch = provisioning.device_variables_set(charge_point=cp, items=variables(5))
    sizes = [len(p["setVariableData"]) for _, p in fake.sent]
    assert sizes == [2, 2, 1] and batch.calls == 3 and batch.ok
    assert [r["variable"]["name"] for r in batch.results] == [f"Var{i}" for i in range(5)]


def test_limits_are_per_instance_and_default_when_unknown(cp, fake):
    limits(cp, "SetVariables", items=2)
    provisioning.device_variables_get(
        charge_point=cp, items=[{k: v for k, v in d.items() if k != "attributeValue"} for d in variables(12)]
    )
    # GetVariables has no limit of its own here: the default (10) applies.
    assert [len(p["getVariableData"]) for _, p in fake.sent] == [10, 2]
    assert provisioning.message_limits(charge_point=cp, instance="GetVariables").known is False


def test_bytes_per_message_splits_by_frame_size(cp, fake):
    items = variables(6)
    one = len(json.dumps([2, "x" * 36, "SetVariables", {"setVariableData": items[:1]}], separators=(",", ":")))
    two = len(json.dumps([2, "x" * 36, "SetVariables", {"setVariableData": items[:2]}], separators=(",", ":")))
    limits(cp, "SetVariables", items=100, size=two)  # exactly two fit
    provisioning.device_variables_set(charge_point=cp, items=items)
    assert [len(p["setVariableData"]) for _, p in fake.sent] == [2, 2, 2]
    for _, payload in fake.sent:
        frame = json.dumps([2, "x" * 36, "SetVariables", payload], separators=(",", ":"))
        assert len(frame.encode()) <= two
    # An item bigger than the limit on its own still goes (alone).
    assert provisioning.split_items(
        items, action="SetVariables", key="setVariableData", limits=provisioning.Limits(10, one - 1, True)
    ) == [[i] for i in items]  # noqa: E501


def test_failed_chunks_become_results_and_offline_stops_sending(cp, fake):
    limits(cp, "SetVariables", items=2)
    fake.status = "offline"
    batch = provisioning.device_variables_set(charge_point=cp, items=variables(5))
    assert len(fake.sent) == 1 and not batch.ok
    assert batch.statuses() == ["Offline"] * 5


def test_invalid_items_are_refused_before_anything_is_sent(cp, fake):
    bad = variables(3)
    bad[2]["attributeType"] = "Sometimes"
    with pytest.raises(InvalidCommand):
        provisioning.device_variables_set(charge_point=cp, items=bad)
    assert fake.sent == []


def test_one_six_chargers_are_refused(in_tenant_a, fake):
    old = ChargePointFactory(identity="CP-16", password=PASSWORD)
    with pytest.raises(InvalidCommand):
        provisioning.device_variables_set(charge_point=old, items=variables(1))


def test_base_report_request_records_the_report(cp, fake):
    report = provisioning.device_base_report_request(charge_point=cp, report_base="FullInventory")
    action, payload = fake.sent[0]
    assert action == "GetBaseReport" and payload["reportBase"] == "FullInventory"
    assert (report.request_id, report.status, report.report_base) == (payload["requestId"], "Accepted", "FullInventory")
    fake.by_action["GetBaseReport"] = {"status": "NotSupported"}
    assert provisioning.device_base_report_request(charge_point=cp, report_base="SummaryInventory").status == (
        "NotSupported"
    )
    fake.status = "timeout"
    assert provisioning.device_base_report_request(charge_point=cp, report_base="SummaryInventory").status == "Failed"


def test_get_report_is_split_by_its_limit(cp, fake):
    limits(cp, "GetReport", items=2)
    cvs = [{"component": {"name": f"C{i}"}} for i in range(3)]
    reports = provisioning.device_report_request(
        charge_point=cp, component_variables=cvs, component_criteria=["Problem"]
    )
    assert [len(p["componentVariable"]) for _, p in fake.sent] == [2, 1]
    assert len({r.request_id for r in reports}) == 2
    assert all(p["componentCriteria"] == ["Problem"] for _, p in fake.sent)


def test_template_lines_round_trip():
    text = "OCPPCommCtrlr.OfflineThreshold = 300\nEVSE@1.AvailabilityState/Target = Available\n# comment\n"
    text += "Connector[main]@1:2.Setting[x] = a = b"
    entries = template_lines_parse(text)
    assert entries[1] == {
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "AvailabilityState"},
        "attributeValue": "Available",
        "attributeType": "Target",
    }
    assert entries[2]["component"] == {"name": "Connector", "instance": "main", "evse": {"id": 1, "connectorId": 2}}
    assert entries[2]["attributeValue"] == "a = b"
    assert template_lines_parse(template_lines_format(entries)) == entries
    with pytest.raises(ValidationError):
        template_lines_parse("no dot here = 1")


def test_most_specific_template_wins(in_tenant_a):
    vendor_template_save(name="all", vendor="ACME", variables_text="A.B = 1")
    vendor_template_save(name="model", vendor="ACME", model="X1", variables_text="A.B = 2")
    vendor_template_save(name="fw", vendor="ACME", model="X1", firmware_prefix="2.", variables_text="A.B = 3")
    vendor_template_save(
        name="off", vendor="ACME", model="X1", firmware_prefix="2.1", enabled=False, variables_text="A.B = 4"
    )  # noqa: E501
    assert vendor_template_match(vendor="acme", model="x1", firmware_version="2.1.0").name == "fw"
    assert vendor_template_match(vendor="ACME", model="X1", firmware_version="1.0").name == "model"
    assert vendor_template_match(vendor="ACME", model="Y", firmware_version="2.0").name == "all"
    assert vendor_template_match(vendor="Other", model="X1") is None


def _pending_run(cp, **template_fields):
    template = vendor_template_save(
        name="ACME",
        vendor="ACME",
        variables_text="OCPPCommCtrlr.OfflineThreshold = 300\nOCPPCommCtrlr.HeartbeatInterval = 60\nA.B = 1",
        **template_fields,
    )
    ChargePoint.objects.filter(pk=cp.pk).update(registration_status="Pending", vendor="ACME", model="X1")
    return TemplateApplication.objects.create(
        charge_point=cp, template=template, template_name=template.name, trigger="pending_boot"
    )


def test_template_on_a_pending_charger_sets_accepts_and_triggers_a_boot(cp, fake):
    limits(cp, "SetVariables", items=2)
    run = _pending_run(
        cp,
        network_profile=provisioning.network_profile_payload(
            charge_point=cp, configuration_slot=2, csms_url="wss://csms.example/ocpp", security_profile=2
        ),
    )
    run = provisioning.template_apply(run_id=run.pk)
    assert fake.actions() == ["SetVariables", "SetVariables", "SetNetworkProfile", "TriggerMessage"]
    assert fake.sent[2][1]["connectionData"]["ocppVersion"] == "OCPP20"
    assert fake.sent[3][1] == {"requestedMessage": "BootNotification"}
    assert (run.status, run.accepted_charger, run.network_profile_status) == ("Applied", True, "Accepted")
    assert [r["status"] for r in run.results] == ["Accepted"] * 3
    assert run.results[0]["setting"] == "OCPPCommCtrlr.OfflineThreshold" and run.results[0]["value"] == "300"
    assert ChargePoint.objects.get(pk=cp.pk).registration_status == "Accepted"
    # A run is claimed once: a second delivery of the task does nothing.
    assert provisioning.template_apply(run_id=run.pk).status == "Applied" and len(fake.sent) == 4


def test_template_refused_setting_leaves_the_charger_pending(cp, fake):
    fake.set_status["B"] = "Rejected"
    run = provisioning.template_apply(run_id=_pending_run(cp).pk)
    assert run.status == "Partial" and not run.accepted_charger
    assert fake.actions() == ["SetVariables"]
    assert ChargePoint.objects.get(pk=cp.pk).registration_status == "Pending"


def test_template_reboot_required_resets_instead_of_triggering(cp, fake):
    fake.set_status["HeartbeatInterval"] = "RebootRequired"
    run = provisioning.template_apply(run_id=_pending_run(cp).pk)
    assert fake.actions() == ["SetVariables", "Reset"] and fake.sent[1][1] == {"type": "OnIdle"}
    assert run.status == "Applied" and run.follow_up.startswith("Reset OnIdle")


def test_template_without_auto_accept_only_configures(cp, fake):
    run = provisioning.template_apply(run_id=_pending_run(cp, auto_accept=False).pk)
    assert run.status == "Applied" and fake.actions() == ["SetVariables"]
    assert ChargePoint.objects.get(pk=cp.pk).registration_status == "Pending"


def test_template_on_an_offline_charger_fails(cp, fake):
    fake.status = "offline"
    run = provisioning.template_apply(run_id=_pending_run(cp).pk)
    assert run.status == "Failed" and {r["status"] for r in run.results} == {"Offline"}


def test_password_rotation_accepted_switches_at_once(cp, fake):
    rotation = security.password_rotate(charge_point=cp, password="the-next-password-0123")
    action, payload = fake.sent[0]
    data = payload["setVariableData"][0]
    assert action == "SetVariables"
    assert (data["component"], data["variable"]) == ({"name": "SecurityCtrlr"}, {"name": "BasicAuthPassword"})
    assert rotation.status == "Accepted"
    cp.refresh_from_db()
    assert check_charger_password("the-next-password-0123", cp.password_hash)
    assert not check_charger_password(PASSWORD, cp.password_hash)
    assert check_charger_password("the-next-password-0123", rotation.new_hash)


def test_password_rotation_generates_a_valid_password(cp, fake):
    security.password_rotate(charge_point=cp)
    password = fake.sent[0][1]["setVariableData"][0]["attributeValue"]
    assert 16 <= len(password) <= 40 and password.isalnum()


@pytest.mark.parametrize(
    ("status", "answer", "expected"), [("ok", "Rejected", "Rejected"), ("timeout", "", "Unconfirmed")]
)
def test_password_rotation_refused_or_unanswered_keeps_the_old_password(cp, fake, status, answer, expected):
    fake.status = status
    fake.set_status["BasicAuthPassword"] = answer
    assert security.password_rotate(charge_point=cp).status == expected
    cp.refresh_from_db()
    assert check_charger_password(PASSWORD, cp.password_hash)
    assert PasswordRotation.objects.get().finished_at is not None


def test_profile_upgrade_sends_profile_priority_reset_then_confirm(cp, fake):
    report_part_record(
        charge_point_id=cp.pk,
        request_id=5,
        seq_no=0,
        generated_at=timezone.now(),
        tbc=False,
        report_data=[
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"},
                "variableAttribute": [{"value": "1,2"}],
            }
        ],
    )
    upgrade = security.profile_upgrade_start(
        charge_point=cp, target_profile=2, configuration_slot=2, csms_url="wss://csms.example/ocpp/CP-DM"
    )
    assert fake.actions() == ["SetNetworkProfile", "SetVariables", "Reset"]
    assert fake.sent[0][1]["connectionData"]["securityProfile"] == 2
    assert fake.sent[1][1]["setVariableData"][0]["attributeValue"] == "2,1"
    assert upgrade.status == "Sent"
    with pytest.raises(ValidationError):  # not reconnected yet
        security.profile_upgrade_confirm(upgrade=upgrade)
    ChargePoint.objects.filter(pk=cp.pk).update(connected_at=timezone.now() + timedelta(seconds=1))
    assert security.profile_upgrade_confirm(upgrade=upgrade).status == "Confirmed"
    assert ChargePoint.objects.get(pk=cp.pk).security_profile == 2


def test_profile_upgrade_refused_stops(cp, fake):
    fake.by_action["SetNetworkProfile"] = {"status": "Rejected"}
    upgrade = security.profile_upgrade_start(
        charge_point=cp, target_profile=3, configuration_slot=2, csms_url="wss://csms.example/ocpp"
    )
    assert fake.actions() == ["SetNetworkProfile"] and upgrade.status == SecurityProfileUpgrade.Status.REFUSED
    with pytest.raises(ValidationError):
        security.profile_upgrade_start(charge_point=cp, target_profile=1, configuration_slot=2, csms_url="ws://x")


def test_reports_keep_only_the_latest_raw_parts(cp):
    now = timezone.now()
    report_part_record(charge_point_id=cp.pk, request_id=1, seq_no=0, generated_at=now, tbc=False, report_data=[])
    report_part_record(charge_point_id=cp.pk, request_id=2, seq_no=0, generated_at=now, tbc=False, report_data=[])
    assert [r.parts.count() for r in DeviceReport.objects.order_by("request_id")] == [0, 1]
