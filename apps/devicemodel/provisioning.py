"""Commands that read and change a 2.x charger's device model, and vendor templates.

These call `command_send` and wait for the charger: call them from a view, the API, a Celery
task or a thread -- never from an OCPP handler (the answer would arrive through the very
receive path the handler is blocking). The answers are stored by the session's
`answered_*` hooks (apps/csms/handlers/v2/provisioning.py) as they pass through the
consumer, so nothing here writes the device model itself.

Splitting (B06.FR.xx / B07): a charger announces how much it takes per message in
DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage, instances GetVariables, SetVariables and
GetReport. A request over either limit may be refused as a whole, so EVzone sends as many
requests as needed and merges the answers.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.chargers.models import ChargePoint, RegistrationStatus
from apps.chargers.services import charge_point_update
from apps.csms.commands import command_send, command_validate
from apps.devicemodel import services as dm
from apps.devicemodel.models import DeviceReport, TemplateApplication, VariableAttribute, VendorTemplate
from apps.devicemodel.vendortemplates import entry_label

log = logging.getLogger(__name__)

COMMAND_TIMEOUT = 20
# Used when the charger has not told us its limits (no report yet): small enough for any
# charger we know, and only costs a few more round trips.
DEFAULT_ITEMS_PER_MESSAGE = 10
DEFAULT_BYTES_PER_MESSAGE = 4096
REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
_UUID_LEN = 36  # message ids are uuid4 strings (apps/csms/handlers/base.py call_raw)

# Status given to items whose request never got a SetVariables/GetVariables answer.
_NO_ANSWER = {"error": "CallError", "timeout": "NoAnswer", "offline": "Offline"}


# --------------------------------------------------------------------------- limits and splitting


@dataclass(frozen=True)
class Limits:
    items: int
    bytes: int
    known: bool


def _positive_int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def message_limits(*, charge_point: ChargePoint, instance: str) -> Limits:
    """ItemsPerMessage / BytesPerMessage of DeviceDataCtrlr for `instance` (GetVariables,
    SetVariables, GetReport), from the stored device model; defaults when unknown."""
    rows = dict(
        VariableAttribute.objects.filter(
            variable__component__charge_point=charge_point,
            variable__component__name__iexact="DeviceDataCtrlr",
            variable__name__in=("ItemsPerMessage", "BytesPerMessage"),
            variable__instance__iexact=instance,
            type=VariableAttribute.Type.ACTUAL,
        ).values_list("variable__name", "value")
    )
    items = _positive_int(rows.get("ItemsPerMessage"))
    size = _positive_int(rows.get("BytesPerMessage"))
    return Limits(
        items=items or DEFAULT_ITEMS_PER_MESSAGE,
        bytes=size or DEFAULT_BYTES_PER_MESSAGE,
        known=items is not None or size is not None,
    )


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def split_items(items: list[dict], *, action: str, key: str, limits: Limits) -> list[list[dict]]:
    """Cut `items` into requests of at most limits.items entries whose whole OCPP-J frame
    ([2,"<uuid>","<action>",{"<key>":[...]}]) stays within limits.bytes. An item too big on
    its own still goes alone: the charger's answer then says so."""
    base = len(_compact([2, "x" * _UUID_LEN, action, {key: []}]))
    chunks: list[list[dict]] = []
    current: list[dict] = []
    size = base
    for item in items:
        item_size = len(_compact(item)) + (1 if current else 0)
        if current and (len(current) + 1 > limits.items or size + item_size > limits.bytes):
            chunks.append(current)
            current, size = [], base
            item_size = len(_compact(item))
        current.append(item)
        size += item_size
    if current:
        chunks.append(current)
    return chunks


@dataclass
class BatchResult:
    """Merged answers of one or more Get/SetVariables requests."""

    results: list[dict] = field(default_factory=list)  # getVariableResult / setVariableResult entries
    calls: int = 0
    failed_calls: int = 0
    command_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed_calls == 0

    def statuses(self) -> list[str]:
        return [r.get("attributeStatus", "") for r in self.results]


def _run_batches(
    *, charge_point: ChargePoint, action: str, key: str, result_key: str, items: list[dict], user, source, timeout
) -> BatchResult:
    if not items:
        return BatchResult()
    chunks = split_items(
        items, action=action, key=key, limits=message_limits(charge_point=charge_point, instance=action)
    )
    # Refuse the whole batch before anything is sent rather than half of it.
    for chunk in chunks:
        command_validate(charge_point=charge_point, action=action, payload={key: chunk})
    batch = BatchResult()
    offline = False
    for chunk in chunks:
        if offline:
            batch.results += [_failed(item, "offline") for item in chunk]
            batch.failed_calls += 1
            continue
        result = command_send(
            charge_point=charge_point, action=action, payload={key: chunk}, user=user, timeout=timeout, source=source
        )
        batch.calls += 1
        batch.command_ids.append(result.command.pk)
        if result.status == "ok" and isinstance(result.response, dict):
            batch.results += result.response.get(result_key) or []
            continue
        batch.failed_calls += 1
        batch.results += [_failed(item, result.status, result.error) for item in chunk]
        # Offline stays offline for the rest of this batch: no point queueing more commands.
        offline = result.status == "offline"
    return batch


def _failed(item: dict, status: str, error: dict | None = None) -> dict:
    out = {
        "component": item["component"],
        "variable": item["variable"],
        "attributeStatus": _NO_ANSWER.get(status, status),
    }
    if item.get("attributeType"):
        out["attributeType"] = item["attributeType"]
    if error:
        out["attributeStatusInfo"] = {
            "reasonCode": error.get("code", ""),
            "additionalInfo": error.get("description", ""),
        }
    return out


def device_variables_get(
    *, charge_point: ChargePoint, items: list[dict], user=None, source: str = "portal", timeout: float = COMMAND_TIMEOUT
) -> BatchResult:
    """GetVariables for GetVariableData `items` (wire form), split by the charger's limits."""
    return _run_batches(
        charge_point=charge_point,
        action="GetVariables",
        key="getVariableData",
        result_key="getVariableResult",
        items=items,
        user=user,
        source=source,
        timeout=timeout,
    )


def device_variables_set(
    *, charge_point: ChargePoint, items: list[dict], user=None, source: str = "portal", timeout: float = COMMAND_TIMEOUT
) -> BatchResult:
    """SetVariables for SetVariableData `items` (wire form), split by the charger's limits."""
    return _run_batches(
        charge_point=charge_point,
        action="SetVariables",
        key="setVariableData",
        result_key="setVariableResult",
        items=items,
        user=user,
        source=source,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- reports, reset, network


def _new_request_id(charge_point: ChargePoint) -> int:
    while True:
        request_id = secrets.randbelow(2**31 - 2) + 1
        if not DeviceReport.objects.filter(charge_point=charge_point, request_id=request_id).exists():
            return request_id


def _report_send(*, charge_point, action: str, payload: dict, report_base: str, criteria: dict, user, timeout):
    request_id = payload["requestId"]
    # Committed before the request goes out: the first NotifyReport may come before the answer.
    DeviceReport.objects.get_or_create(
        charge_point=charge_point,
        request_id=request_id,
        defaults={"report_base": report_base, "criteria": criteria, "requested_by": user},
    )
    result = command_send(
        charge_point=charge_point, action=action, payload=payload, user=user, timeout=timeout, source="portal"
    )
    if result.status == "ok" and isinstance(result.response, dict):
        info = result.response.get("statusInfo") or {}
        status = result.response.get("status", "")
        status_info = " ".join(filter(None, (info.get("reasonCode"), info.get("additionalInfo"))))
    else:
        status = DeviceReport.Status.FAILED
        status_info = result.status + (f": {result.error.get('code')}" if result.error else "")
    # The session's answered_* hook stores the same answer; doing it here too is idempotent
    # and covers a hook that ran before this row existed in its thread's view.
    return dm.report_answer_record(
        charge_point_id=charge_point.pk,
        request_id=request_id,
        report_base=report_base,
        status=status,
        status_info=status_info,
        criteria=criteria,
    )


def device_base_report_request(
    *, charge_point: ChargePoint, report_base: str, user=None, timeout: float = COMMAND_TIMEOUT
) -> DeviceReport:
    if report_base not in REPORT_BASES:
        raise ValidationError({"report_base": f"One of {', '.join(REPORT_BASES)}."})
    payload = {"requestId": _new_request_id(charge_point), "reportBase": report_base}
    command_validate(charge_point=charge_point, action="GetBaseReport", payload=payload)
    return _report_send(
        charge_point=charge_point,
        action="GetBaseReport",
        payload=payload,
        report_base=report_base,
        criteria={},
        user=user,
        timeout=timeout,
    )


def device_report_request(
    *,
    charge_point: ChargePoint,
    component_variables: list[dict] | None = None,
    component_criteria: list[str] | None = None,
    user=None,
    timeout: float = COMMAND_TIMEOUT,
) -> list[DeviceReport]:
    """GetReport; a componentVariable list over the charger's GetReport limits becomes
    several requests (each with its own requestId)."""
    chunks: list[list[dict] | None] = [None]
    if component_variables:
        limits = message_limits(charge_point=charge_point, instance="GetReport")
        chunks = split_items(component_variables, action="GetReport", key="componentVariable", limits=limits)
    payloads = []
    for chunk in chunks:
        payload: dict = {"requestId": _new_request_id(charge_point)}
        if chunk:
            payload["componentVariable"] = chunk
        if component_criteria:
            payload["componentCriteria"] = list(component_criteria)
        command_validate(charge_point=charge_point, action="GetReport", payload=payload)
        payloads.append(payload)
    return [
        _report_send(
            charge_point=charge_point,
            action="GetReport",
            payload=payload,
            report_base="",
            criteria={k: v for k, v in payload.items() if k != "requestId"},
            user=user,
            timeout=timeout,
        )
        for payload in payloads
    ]


def device_reset(
    *, charge_point: ChargePoint, reset_type: str, evse_id: int | None = None, user=None, timeout=COMMAND_TIMEOUT
):
    payload: dict = {"type": reset_type}
    if evse_id is not None:
        payload["evseId"] = evse_id
    return command_send(
        charge_point=charge_point, action="Reset", payload=payload, user=user, timeout=timeout, source="portal"
    )


def network_profile_payload(
    *,
    charge_point: ChargePoint,
    configuration_slot: int,
    csms_url: str,
    security_profile: int,
    ocpp_interface: str = "Wired0",
    message_timeout: int = 30,
) -> dict:
    data = {
        "ocppTransport": "JSON",
        "ocppCsmsUrl": csms_url,
        "messageTimeout": message_timeout,
        "securityProfile": security_profile,
        "ocppInterface": ocpp_interface,
    }
    # 2.0.1 requires ocppVersion and knows only OCPP20 for itself; 2.1 made it optional
    # (the version is negotiated at the handshake).
    if not charge_point.is_ocpp21:
        data["ocppVersion"] = "OCPP20"
    return {"configurationSlot": configuration_slot, "connectionData": data}


def network_profile_set(*, charge_point: ChargePoint, payload: dict, user=None, timeout=COMMAND_TIMEOUT):
    return command_send(
        charge_point=charge_point,
        action="SetNetworkProfile",
        payload=payload,
        user=user,
        timeout=timeout,
        source="portal",
    )


# --------------------------------------------------------------------------- vendor template runs


def template_run_now(*, charge_point: ChargePoint, template: VendorTemplate, user=None) -> TemplateApplication:
    """The operator applies a template from the charger's page (waits for the answers)."""
    run = TemplateApplication.objects.create(
        charge_point=charge_point,
        template=template,
        template_name=template.name,
        template_revision=template.revision,
        trigger="manual",
        requested_by=user,
    )
    return template_apply(run_id=run.pk, user=user)


def _claim(run_id: int) -> TemplateApplication | None:
    # Only one process runs a queued run (Celery redelivery, a double queue).
    claimed = TemplateApplication.objects.filter(pk=run_id, status=TemplateApplication.Status.QUEUED).update(
        status=TemplateApplication.Status.RUNNING
    )
    return TemplateApplication.objects.select_related("charge_point", "template").get(pk=run_id) if claimed else None


def template_apply(*, run_id: int, user=None) -> TemplateApplication:
    """Send the template's SetVariables (split by the charger's limits) and its network
    profile; then, when everything was accepted and the template says so, accept a Pending
    charger and make it boot again (TriggerMessage BootNotification, or a Reset when a
    setting needs a reboot to take effect)."""
    run = _claim(run_id)
    if run is None:
        return TemplateApplication.objects.get(pk=run_id)
    cp, template = run.charge_point, run.template
    try:
        if template is None:
            raise ValidationError("The template was deleted.")
        batch = device_variables_set(
            charge_point=cp, items=list(template.variables), user=user, source="template", timeout=COMMAND_TIMEOUT
        )
        sent = {_key(e): e for e in template.variables}
        run.results = [
            {
                "setting": entry_label(r),
                "value": "••••" if dm.is_secret(r["variable"]["name"]) else sent.get(_key(r), {}).get("attributeValue"),
                "status": r.get("attributeStatus", ""),
                "info": _status_info(r.get("attributeStatusInfo")),
            }
            for r in batch.results
        ]
        all_ok = batch.ok and all(s in ("Accepted", "RebootRequired") for s in batch.statuses())
        if template.network_profile and batch.ok:
            result = network_profile_set(charge_point=cp, payload=template.network_profile, user=user)
            run.network_profile_status = (
                (result.response or {}).get("status", "") if result.status == "ok" else _NO_ANSWER.get(result.status)
            )
            all_ok = all_ok and run.network_profile_status == "Accepted"
        run.status = TemplateApplication.Status.APPLIED if all_ok else TemplateApplication.Status.PARTIAL
        if not batch.ok and not any(s in ("Accepted", "RebootRequired") for s in batch.statuses()):
            run.status = TemplateApplication.Status.FAILED
        cp.refresh_from_db()
        if all_ok and template.auto_accept and cp.registration_status == RegistrationStatus.PENDING:
            _accept(run, cp, reboot="RebootRequired" in batch.statuses(), user=user)
    except Exception as exc:
        log.exception("vendor template %s on %s", run.template_name, cp.identity)
        run.status = TemplateApplication.Status.FAILED
        run.error = str(exc)[:500]
    run.finished_at = timezone.now()
    run.save()
    return run


def _key(item: dict) -> tuple:
    return dm._result_key(item)


def _status_info(info: dict | None) -> str:
    if not info:
        return ""
    return " ".join(filter(None, (info.get("reasonCode"), info.get("additionalInfo"))))


def _accept(run: TemplateApplication, cp: ChargePoint, *, reboot: bool, user) -> None:
    """As the operator's Accept button does (apps/portal/chargers/views.charger_registration):
    the row first, so that the boot we then ask for is answered Accepted."""

    charge_point_update(charge_point=cp, registration_status=RegistrationStatus.ACCEPTED)
    run.accepted_charger = True
    if reboot:
        # A setting takes effect only after a reboot; the reboot brings the new boot too.
        result = device_reset(charge_point=cp, reset_type="OnIdle", user=user)
        run.follow_up = f"Reset OnIdle: {(result.response or {}).get('status', result.status)}"
    else:
        result = command_send(
            charge_point=cp,
            action="TriggerMessage",
            payload={"requestedMessage": "BootNotification"},
            user=user,
            timeout=COMMAND_TIMEOUT,
            source="template",
        )
        run.follow_up = f"TriggerMessage BootNotification: {(result.response or {}).get('status', result.status)}"
