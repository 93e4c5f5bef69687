"""The device model, security and vendor template pages, and the device model API view."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create, charger_event_record
from apps.devicemodel.api import DeviceModelView
from apps.devicemodel.models import PasswordRotation, VariableAttribute, VendorTemplate
from apps.devicemodel.services import report_part_record
from tests.devicemodel.test_services import PASSWORD, answer_like_a_station


@pytest.fixture
def fake(command_bus):
    return answer_like_a_station(command_bus)


@pytest.fixture
def cps(tenant_a):
    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="CP-DM", password=PASSWORD, protocol_version="ocpp2.0.1")
        old = charge_point_create(identity="CP-16", password=PASSWORD)
        report_part_record(
            charge_point_id=cp.pk,
            request_id=1,
            seq_no=0,
            generated_at=timezone.now(),
            tbc=False,
            report_data=[
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "variableAttribute": [{"value": "300", "mutability": "ReadWrite"}],
                    "variableCharacteristics": {"dataType": "integer", "unit": "s", "supportsMonitoring": True},
                },
                {
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                    "variableAttribute": [{"value": "22000", "mutability": "ReadOnly"}],
                },
            ],
        )
        charger_event_record(
            charge_point_id=cp.pk, kind="SecurityEventNotification", status="FirmwareUpdated", info="v2"
        )
    return cp, old


@pytest.fixture
def operator(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


@pytest.fixture
def finance(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.FINANCE))


def test_device_model_page_lists_and_filters(cps, operator):
    page = operator.get("/chargers/CP-DM/device-model/").content.decode()
    assert "HeartbeatInterval" in page and "Power" in page and "EVSE 1" in page
    assert "Request report" in page and "2 components, 2 variables" in page
    page = operator.get("/chargers/CP-DM/device-model/?q=heart").content.decode()
    assert "HeartbeatInterval" in page and "22000" not in page
    page = operator.get("/chargers/CP-DM/device-model/?component=EVSE").content.decode()
    assert "22000" in page and "HeartbeatInterval" not in page


def test_one_six_charger_page_explains(cps, operator):
    page = operator.get("/chargers/CP-16/device-model/").content.decode()
    assert "configuration keys" in page
    response = operator.post("/chargers/CP-16/device-model/set/", {"lines": "A.B = 1"}, follow=True)
    assert "speaks 1.6" in response.content.decode()


def test_read_only_role_sees_but_cannot_operate(cps, finance, fake):
    page = finance.get("/chargers/CP-DM/device-model/").content.decode()
    assert "HeartbeatInterval" in page and "Request report" not in page
    assert finance.post("/chargers/CP-DM/device-model/set/", {"lines": "A.B = 1"}).status_code == 403
    assert fake.sent == []


def test_set_a_variable_from_the_table(cps, operator, tenant_a, fake):
    with schema_context(tenant_a.schema_name):
        attribute = VariableAttribute.objects.get(variable__name="HeartbeatInterval")
        read_only = VariableAttribute.objects.get(variable__name="Power")
    response = operator.post(
        "/chargers/CP-DM/device-model/set/", {"attribute": attribute.pk, "value": "120"}, follow=True
    )
    assert fake.sent == [
        (
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attributeValue": "120",
                    }
                ]
            },
        )
    ]
    page = response.content.decode()
    assert "SetVariables: 1 Accepted" in page and "OCPPCommCtrlr.HeartbeatInterval" in page
    response = operator.post(
        "/chargers/CP-DM/device-model/set/", {"attribute": read_only.pk, "value": "1"}, follow=True
    )
    assert "read-only" in response.content.decode() and len(fake.sent) == 1


def test_lines_get_report_and_reset(cps, operator, fake):
    operator.post("/chargers/CP-DM/device-model/set/", {"lines": "A.B = 1\nA.C = 2"})
    operator.post("/chargers/CP-DM/device-model/get/", {})
    operator.post("/chargers/CP-DM/device-model/report/", {"kind": "base", "report_base": "FullInventory"})
    operator.post("/chargers/CP-DM/device-model/reset/", {"type": "OnIdle", "evse_id": "1"})
    assert [a for a, _ in fake.sent] == ["SetVariables", "GetVariables", "GetBaseReport", "Reset"]
    assert len(fake.sent[1][1]["getVariableData"]) == 2
    assert fake.sent[3][1] == {"type": "OnIdle", "evseId": 1}


def test_vendor_template_pages(cps, operator, tenant_a):
    response = operator.post(
        "/device-model/templates/new/",
        {
            "name": "ACME defaults",
            "enabled": "on",
            "vendor": "ACME",
            "auto_accept": "on",
            "variables_text": "OCPPCommCtrlr.OfflineThreshold = 300",
            "network_profile_json": "",
        },
    )
    assert response.status_code == 302
    response = operator.post(
        "/device-model/templates/new/",
        {"name": "Broken", "vendor": "ACME", "variables_text": "nonsense", "network_profile_json": '{"x": 1}'},
    )
    page = response.content.decode()
    assert "Component.Variable = value" in page and "configurationSlot" in page
    with schema_context(tenant_a.schema_name):
        template = VendorTemplate.objects.get()
    assert template.variables[0]["attributeValue"] == "300"
    assert "ACME defaults" in operator.get("/device-model/templates/").content.decode()
    assert "OfflineThreshold = 300" in operator.get(f"/device-model/templates/{template.pk}/").content.decode()


def test_security_page_and_password_rotation(cps, operator, tenant_a, fake):
    page = operator.get("/chargers/CP-DM/security/").content.decode()
    assert "FirmwareUpdated" in page and "Rotate password" in page
    response = operator.post("/chargers/CP-DM/security/password/", follow=True)
    assert "accepted the new password" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert PasswordRotation.objects.get().status == "Accepted"


def test_device_model_api(cps, tenant_a, make_user):
    user = make_user(tenant_a, role=Role.TECHNICIAN)
    with schema_context(tenant_a.schema_name):
        request = APIRequestFactory().get("/api/v1/charge-points/CP-DM/device-model/", {"component": "ocppcommctrlr"})
        force_authenticate(request, user=user)
        body = DeviceModelView.as_view()(request, identity="CP-DM").data
    assert body["last_report"]["request_id"] == 1
    [component] = body["components"]
    assert component["component"] == {"name": "OCPPCommCtrlr"}
    variable = component["variables"][0]
    assert variable["variable"] == {"name": "HeartbeatInterval"}
    assert variable["characteristics"]["unit"] == "s"
    assert variable["attributes"][0]["value"] == "300" and variable["attributes"][0]["mutability"] == "ReadWrite"
