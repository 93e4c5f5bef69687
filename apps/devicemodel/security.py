"""Block A for 2.x chargers: Basic auth password rotation (A01) and security profile
upgrade (A05). Like apps.devicemodel.provisioning these wait for the charger: call them from
a view, the API or a task, never from an OCPP handler.

Password (A01, TC_A_09_CSMS "only accepts the new credentials"): the new password becomes
the charger's password the moment the charger answers Accepted. The charger keeps its
current connection and presents the new password at its next connection; the old one is no
longer accepted. Without an answer (timeout, offline) nothing changes on our side and the
rotation stays Unconfirmed: the operator retries, or sets a password by hand.

Profile (A05): SetNetworkProfile with the higher profile in a free slot, then
OCPPCommCtrlr.NetworkConfigurationPriority with that slot first, then Reset. The CSMS sees
TLS and client certificates only at the handshake (apps.csms.services.connection_authorize),
so the stored profile is raised when the operator confirms that the charger is back on the
new profile (the page shows when it last connected). Raising it earlier would lock out a
charger whose new profile failed and fell back (B10) to the old one.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from apps.chargers.models import ChargePoint
from apps.chargers.passwords import hash_charger_password
from apps.chargers.services import charge_point_update
from apps.devicemodel import provisioning
from apps.devicemodel.models import PasswordRotation, SecurityProfileUpgrade, VariableAttribute

PASSWORD_LENGTH = 32
# OCPP 2.x passwordString allows a-z A-Z 0-9 * - _ = : + | @ . ; letters and digits are
# accepted by every charger (and by 1.6's printable-ASCII rule).
PASSWORD_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _require_2x(charge_point: ChargePoint) -> None:
    if not charge_point.is_ocpp2:
        raise ValidationError("This works for OCPP 2.0.1 and 2.1 chargers; 1.6 uses configuration keys.")


def charger_password_generate() -> str:
    return get_random_string(PASSWORD_LENGTH, PASSWORD_ALPHABET)


def password_rotate(*, charge_point: ChargePoint, user=None, password: str | None = None) -> PasswordRotation:
    """Send SecurityCtrlr.BasicAuthPassword and, when the charger accepts it, make it the
    charger's password. The password itself is kept nowhere (only its hash)."""

    _require_2x(charge_point)
    password = password or charger_password_generate()
    rotation = PasswordRotation.objects.create(
        charge_point=charge_point, new_hash=hash_charger_password(password), requested_by=user
    )
    item = {
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
        "attributeValue": password,
    }
    batch = provisioning.device_variables_set(charge_point=charge_point, items=[item], user=user, source="security")
    result = batch.results[0] if batch.results else {}
    status = result.get("attributeStatus", "")
    info = result.get("attributeStatusInfo") or {}
    rotation.answer = " ".join(filter(None, (status, info.get("reasonCode"), info.get("additionalInfo"))))[:200]
    with transaction.atomic():
        if status == "Accepted" or status == "RebootRequired":
            charge_point_update(charge_point=charge_point, password=password)
            rotation.status = PasswordRotation.Status.ACCEPTED
        elif batch.ok:
            rotation.status = PasswordRotation.Status.REJECTED
        else:
            rotation.status = PasswordRotation.Status.UNCONFIRMED
        rotation.finished_at = timezone.now()
        rotation.save()
    return rotation


def _slot_priority(charge_point: ChargePoint) -> str:
    value = (
        VariableAttribute.objects.filter(
            variable__component__charge_point=charge_point,
            variable__component__name__iexact="OCPPCommCtrlr",
            variable__name__iexact="NetworkConfigurationPriority",
            type=VariableAttribute.Type.ACTUAL,
        )
        .values_list("value", flat=True)
        .first()
    )
    return value or ""


def profile_upgrade_start(
    *,
    charge_point: ChargePoint,
    target_profile: int,
    configuration_slot: int,
    csms_url: str,
    ocpp_interface: str = "Wired0",
    message_timeout: int = 30,
    reset_type: str = "OnIdle",
    user=None,
) -> SecurityProfileUpgrade:
    _require_2x(charge_point)
    current = charge_point.security_profile
    if target_profile <= current or target_profile > 3:
        raise ValidationError({"target_profile": f"Choose a profile above the current one ({current}), at most 3."})
    if target_profile >= 2 and not csms_url.startswith("wss://"):
        raise ValidationError({"csms_url": "Profiles 2 and 3 need a wss:// address."})
    upgrade = SecurityProfileUpgrade.objects.create(
        charge_point=charge_point,
        from_profile=current,
        target_profile=target_profile,
        configuration_slot=configuration_slot,
        requested_by=user,
    )
    steps = []

    def step(action: str, result) -> bool:
        answer = result.response if result.status == "ok" else (result.error or {"status": result.status})
        status = (answer or {}).get("status", "") if result.status == "ok" else result.status
        steps.append({"action": action, "status": status, "answer": answer})
        return status == "Accepted"

    payload = provisioning.network_profile_payload(
        charge_point=charge_point,
        configuration_slot=configuration_slot,
        csms_url=csms_url,
        security_profile=target_profile,
        ocpp_interface=ocpp_interface,
        message_timeout=message_timeout,
    )
    ok = step(
        "SetNetworkProfile", provisioning.network_profile_set(charge_point=charge_point, payload=payload, user=user)
    )
    if ok:
        others = [s.strip() for s in _slot_priority(charge_point).split(",") if s.strip()]
        priority = ",".join([str(configuration_slot)] + [s for s in others if s != str(configuration_slot)])
        batch = provisioning.device_variables_set(
            charge_point=charge_point,
            items=[
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "NetworkConfigurationPriority"},
                    "attributeValue": priority,
                }
            ],
            user=user,
            source="security",
        )
        status = batch.statuses()[0] if batch.results else "NoAnswer"
        steps.append({"action": "SetVariables", "status": status, "answer": {"NetworkConfigurationPriority": priority}})
        ok = status in ("Accepted", "RebootRequired")
    if ok:
        ok = step("Reset", provisioning.device_reset(charge_point=charge_point, reset_type=reset_type, user=user))
    upgrade.steps = steps
    if not ok:
        upgrade.status = SecurityProfileUpgrade.Status.REFUSED
        upgrade.finished_at = timezone.now()
    upgrade.save()
    return upgrade


@transaction.atomic
def profile_upgrade_confirm(*, upgrade: SecurityProfileUpgrade, user=None) -> SecurityProfileUpgrade:
    """The operator saw the charger come back on the new profile: from now on a connection
    below it is refused (apps.csms.services.connection_authorize)."""

    upgrade = SecurityProfileUpgrade.objects.select_for_update().select_related("charge_point").get(pk=upgrade.pk)
    if upgrade.status != SecurityProfileUpgrade.Status.SENT:
        raise ValidationError(f"This upgrade is {upgrade.status.lower()}.")
    cp = upgrade.charge_point
    if cp.connected_at is None or cp.connected_at <= upgrade.created_at:
        raise ValidationError("The charger has not reconnected since the upgrade was sent.")
    charge_point_update(charge_point=cp, security_profile=max(cp.security_profile, upgrade.target_profile))
    upgrade.status = SecurityProfileUpgrade.Status.CONFIRMED
    upgrade.finished_at = timezone.now()
    upgrade.save()
    return upgrade


def profile_upgrade_cancel(*, upgrade: SecurityProfileUpgrade) -> None:
    SecurityProfileUpgrade.objects.filter(pk=upgrade.pk, status=SecurityProfileUpgrade.Status.SENT).update(
        status=SecurityProfileUpgrade.Status.CANCELLED, finished_at=timezone.now()
    )
