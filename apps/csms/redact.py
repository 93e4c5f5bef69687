"""Secrets that travel inside OCPP payloads, masked before a payload is kept (message log,
command history). The charger gets the real value; support staff reading the log must not.

- 2.x SetVariables of SecurityCtrlr.BasicAuthPassword (A01 password rotation);
- 1.6 ChangeConfiguration of AuthorizationKey (the 1.6 security whitepaper's equivalent).
"""

from __future__ import annotations

import copy

MASK = "********"


def _is_password_variable(item: dict) -> bool:
    variable = item.get("variable") or {}
    return isinstance(variable, dict) and str(variable.get("name", "")).lower() == "basicauthpassword"


def redact(action: str, payload):
    """The payload with secrets masked (a copy; the original is untouched), or the payload itself."""
    if not isinstance(payload, dict):
        return payload
    if action == "SetVariables":
        items = payload.get("setVariableData")
        if isinstance(items, list) and any(isinstance(i, dict) and _is_password_variable(i) for i in items):
            masked = copy.deepcopy(payload)
            for item in masked["setVariableData"]:
                if isinstance(item, dict) and _is_password_variable(item) and "attributeValue" in item:
                    item["attributeValue"] = MASK
            return masked
    elif action == "ChangeConfiguration":
        if str(payload.get("key", "")).lower() == "authorizationkey" and "value" in payload:
            return {**payload, "value": MASK}
    return payload
