"""Charger passwords sent in commands never reach the message log or the command history."""

from apps.chargers.services import charge_point_create
from apps.csms import messagelog
from apps.csms.commands import command_create
from apps.csms.redact import MASK, redact

SET_PASSWORD = {
    "setVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "60"},
        {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "attributeValue": "n3w-S3cret-pass-0001",
        },
    ]
}


def test_password_variable_is_masked_and_the_original_kept():
    masked = redact("SetVariables", SET_PASSWORD)
    assert masked["setVariableData"][1]["attributeValue"] == MASK
    assert masked["setVariableData"][0]["attributeValue"] == "60"
    assert SET_PASSWORD["setVariableData"][1]["attributeValue"] == "n3w-S3cret-pass-0001"
    assert redact("ChangeConfiguration", {"key": "AuthorizationKey", "value": "abc"})["value"] == MASK
    assert redact("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})["value"] == "60"
    assert redact("SetVariables", {"setVariableData": "junk"}) == {"setVariableData": "junk"}


def test_log_and_command_history_never_hold_the_password(in_tenant_a):
    cp = charge_point_create(identity="CP-RED", password="a-good-charger-password")
    row = messagelog.entry(
        schema="x",
        charge_point_id=cp.pk,
        identity=cp.identity,
        direction="out",
        message_type=2,
        action="SetVariables",
        payload=SET_PASSWORD,
    )
    assert "n3w-S3cret" not in str(row["payload"])
    command = command_create(charge_point=cp, action="SetVariables", payload=SET_PASSWORD)
    command.refresh_from_db()
    assert "n3w-S3cret" not in str(command.payload)
