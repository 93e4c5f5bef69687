"""The operator back office (operator_admin_site) shows the OCPP models."""

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint
from apps.chargers.passwords import check_charger_password


@pytest.fixture
def admin_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


@pytest.mark.parametrize(
    "path",
    [
        "chargers/chargepoint/",
        "chargers/chargepoint/add/",
        "chargers/location/",
        "chargers/configurationkey/",
        "chargers/chargerevent/",
        "charging/idtoken/",
        "charging/transaction/",
        "charging/reservation/",
        "csms/messagelog/",
        "csms/command/",
        "csms/csmssettings/",
    ],
)
def test_changelists_and_forms_render(admin_a, path):
    assert admin_a.get(f"/admin/{path}").status_code == 200


def test_add_charger_hashes_password(tenant_a, admin_a):
    response = admin_a.post(
        "/admin/chargers/chargepoint/add/",
        {
            "identity": "ADMIN-CP",
            "name": "",
            "security_profile": 1,
            "registration_status": "Accepted",
            "password": "admin-typed-password-1",
            "connectors-TOTAL_FORMS": 0,
            "connectors-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    with schema_context(tenant_a.schema_name):
        cp = ChargePoint.objects.get(identity="ADMIN-CP")
        assert check_charger_password("admin-typed-password-1", cp.password_hash)


def test_command_action_records_commands(tenant_a, admin_a):
    from apps.chargers.services import charge_point_create
    from apps.csms.models import Command

    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="ADMIN-OFF", security_profile=0)
    response = admin_a.post(
        "/admin/chargers/chargepoint/", {"action": "soft_reset", "_selected_action": [cp.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "Reset: 1 offline" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        command = Command.objects.get()
        assert (command.action, command.status, command.source) == ("Reset", "offline", "admin")
        assert command.payload == {"type": "Soft"} and command.user is not None


def test_change_keeps_identity_and_password_when_left_empty(tenant_a, admin_a):
    from apps.chargers.services import charge_point_create

    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="ADMIN-EDIT", password="original-password-123")
        original_hash = cp.password_hash
    url = f"/admin/chargers/chargepoint/{cp.pk}/change/"
    assert admin_a.get(url).status_code == 200
    response = admin_a.post(
        url,
        {
            "identity": "HIJACKED",
            "name": "Renamed",
            "security_profile": 1,
            "registration_status": "Accepted",
            "password": "",
            "connectors-TOTAL_FORMS": 0,
            "connectors-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    with schema_context(tenant_a.schema_name):
        cp.refresh_from_db()
        assert (cp.identity, cp.name, cp.password_hash) == ("ADMIN-EDIT", "Renamed", original_hash)
