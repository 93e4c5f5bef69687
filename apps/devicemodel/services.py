"""Writes for the device model: what NotifyReport and Get/SetVariables answers tell us.

Everything here is called from the OCPP session (handlers and `answered_*` hooks) through
`self.db(...)`, or from the command services in `apps.devicemodel.provisioning`. Payloads
are in the wire form (camelCase), the same whichever path they came by.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.devicemodel.models import Component, DeviceReport, ReportPart, Variable, VariableAttribute

FULL_INVENTORY = "FullInventory"
ACTUAL = VariableAttribute.Type.ACTUAL
# Variables whose value EVzone never keeps, whatever the charger's report says about their
# mutability: a password in the device model would be a password in every backup.
SECRET_VARIABLES = frozenset({"basicauthpassword"})


def _component_key(component: dict) -> tuple:
    evse = component.get("evse") or {}
    return (
        component["name"].lower(),
        (component.get("instance") or "").lower(),
        evse.get("id"),
        evse.get("connectorId") if evse else None,
    )


def _model_component_key(c: Component) -> tuple:
    return (c.name.lower(), c.instance.lower(), c.evse_id, c.connector_id)


def _variable_key(variable: dict) -> tuple:
    return (variable["name"].lower(), (variable.get("instance") or "").lower())


def is_secret(variable_name: str) -> bool:
    return variable_name.lower() in SECRET_VARIABLES


def _apply_entries(*, charge_point_id: int, entries: list[dict], now: datetime, value_only: bool = False) -> int:
    """Upsert ReportDataType entries ({component, variable, variableAttribute[], variableCharacteristics?}).

    value_only: the entries come from a Get/SetVariables answer, which says nothing about
    mutability, persistence or characteristics -- keep what the last report said.
    Three queries per table whatever the number of entries (a FullInventory has hundreds)."""
    if not entries:
        return 0
    components = {
        _model_component_key(c): c for c in Component.objects.filter(charge_point_id=charge_point_id).order_by("pk")
    }
    new_components: dict[tuple, Component] = {}
    for entry in entries:
        key = _component_key(entry["component"])
        if key not in components and key not in new_components:
            c = entry["component"]
            evse = c.get("evse") or {}
            new_components[key] = Component(
                charge_point_id=charge_point_id,
                name=c["name"],
                instance=c.get("instance") or "",
                evse_id=evse.get("id"),
                connector_id=evse.get("connectorId") if evse else None,
            )
    Component.objects.bulk_create(new_components.values())
    components.update(new_components)

    variables = {
        (v.component_id, v.name.lower(), v.instance.lower()): v
        for v in Variable.objects.filter(component__charge_point_id=charge_point_id)
    }
    new_variables: dict[tuple, Variable] = {}
    changed_variables: dict[tuple, Variable] = {}
    for entry in entries:
        component = components[_component_key(entry["component"])]
        key = (component.pk, *_variable_key(entry["variable"]))
        variable = variables.get(key) or new_variables.get(key)
        if variable is None:
            v = entry["variable"]
            variable = Variable(component=component, name=v["name"], instance=v.get("instance") or "")
            new_variables[key] = variable
        elif key not in new_variables:
            changed_variables[key] = variable
        chars = entry.get("variableCharacteristics")
        if chars is not None and not value_only:
            variable.unit = chars.get("unit") or ""
            variable.data_type = chars.get("dataType") or ""
            variable.min_limit = chars.get("minLimit")
            variable.max_limit = chars.get("maxLimit")
            variable.max_elements = chars.get("maxElements")
            variable.values_list = chars.get("valuesList") or ""
            variable.supports_monitoring = chars.get("supportsMonitoring")
        variable.updated_at = now
    Variable.objects.bulk_create(new_variables.values())
    Variable.objects.bulk_update(
        changed_variables.values(),
        [
            "unit",
            "data_type",
            "min_limit",
            "max_limit",
            "max_elements",
            "values_list",
            "supports_monitoring",
            "updated_at",
        ],
    )
    variables.update(new_variables)

    attributes = {
        (a.variable_id, a.type): a
        for a in VariableAttribute.objects.filter(variable__component__charge_point_id=charge_point_id)
    }
    new_attributes: dict[tuple, VariableAttribute] = {}
    changed_attributes: dict[tuple, VariableAttribute] = {}
    for entry in entries:
        component = components[_component_key(entry["component"])]
        variable = variables[(component.pk, *_variable_key(entry["variable"]))]
        secret = is_secret(variable.name)
        for attr in entry.get("variableAttribute") or []:
            key = (variable.pk, attr.get("type") or ACTUAL)
            attribute = attributes.get(key) or new_attributes.get(key)
            if attribute is None:
                attribute = VariableAttribute(variable=variable, type=key[1])
                new_attributes[key] = attribute
            elif key not in new_attributes:
                changed_attributes[key] = attribute
            if not value_only:
                # Schema defaults for what the charger left out.
                attribute.mutability = attr.get("mutability") or VariableAttribute.Mutability.READ_WRITE
                attribute.persistent = bool(attr.get("persistent", False))
                attribute.constant = bool(attr.get("constant", False))
            write_only = attribute.mutability == VariableAttribute.Mutability.WRITE_ONLY
            attribute.value = None if (secret or write_only) else attr.get("value")
            attribute.updated_at = now
    VariableAttribute.objects.bulk_create(new_attributes.values())
    VariableAttribute.objects.bulk_update(
        changed_attributes.values(), ["mutability", "persistent", "constant", "value", "updated_at"]
    )
    return len(entries)


# --------------------------------------------------------------------------- reports


def _report_for_update(*, charge_point_id: int, request_id: int) -> DeviceReport:
    # A NotifyReport part and the answer to the GetBaseReport that asked for it can arrive in
    # either order and in two threads: both lock the row.
    report, _ = DeviceReport.objects.select_for_update().get_or_create(
        charge_point_id=charge_point_id, request_id=request_id, defaults={"status": DeviceReport.Status.RECEIVING}
    )
    return report


def _complete_if_whole(report: DeviceReport, now: datetime) -> None:
    """Complete once the part with tbc=false and every part before it are in (in any order).
    Only then does a FullInventory replace the stored model: a half-received inventory
    must not wipe what we knew."""
    if report.status == DeviceReport.Status.COMPLETE or report.last_seq_no is None:
        return
    parts = list(report.parts.filter(seq_no__lte=report.last_seq_no).order_by("seq_no"))
    if len(parts) != report.last_seq_no + 1:
        return
    if report.report_base == FULL_INVENTORY:
        _replace_with(report, parts, now)
    report.status = DeviceReport.Status.COMPLETE
    report.completed_at = now
    # Keep the raw parts of this report only (they are the support engineer's evidence).
    ReportPart.objects.filter(report__charge_point_id=report.charge_point_id).exclude(report=report).delete()


def _replace_with(report: DeviceReport, parts: list[ReportPart], now: datetime) -> None:
    Component.objects.filter(charge_point_id=report.charge_point_id).delete()
    entries = [entry for part in parts for entry in part.report_data]
    _apply_entries(charge_point_id=report.charge_point_id, entries=entries, now=now)


@transaction.atomic
def report_part_record(
    *, charge_point_id: int, request_id: int, seq_no: int, generated_at: datetime, tbc: bool, report_data: list[dict]
) -> DeviceReport:
    """One NotifyReport. Parts of a FullInventory wait until the report is whole; parts of
    any other report (ConfigurationInventory, SummaryInventory, GetReport) are merged at once."""
    now = timezone.now()
    report = _report_for_update(charge_point_id=charge_point_id, request_id=request_id)
    part, created = ReportPart.objects.get_or_create(
        report=report, seq_no=seq_no, defaults={"tbc": tbc, "generated_at": generated_at, "report_data": report_data}
    )
    if not created:
        # A retransmission (the charger missed our answer): the first copy counts.
        return report
    report.last_part_at = now
    report.items += len(report_data)
    if report.generated_at is None or generated_at < report.generated_at:
        report.generated_at = generated_at
    if not tbc:
        report.last_seq_no = seq_no
    if report.status in (DeviceReport.Status.REQUESTED, DeviceReport.Status.ACCEPTED):
        report.status = DeviceReport.Status.RECEIVING
    if report.report_base != FULL_INVENTORY:
        _apply_entries(charge_point_id=charge_point_id, entries=report_data, now=now)
    _complete_if_whole(report, now)
    report.save()
    return report


_ANSWER_STATUS = {
    "Accepted": DeviceReport.Status.ACCEPTED,
    "Rejected": DeviceReport.Status.REJECTED,
    "NotSupported": DeviceReport.Status.NOT_SUPPORTED,
    "EmptyResultSet": DeviceReport.Status.EMPTY,
}


@transaction.atomic
def report_answer_record(
    *,
    charge_point_id: int,
    request_id: int,
    report_base: str = "",
    status: str,
    status_info: str = "",
    criteria: dict | None = None,
) -> DeviceReport:
    """The charger's answer to GetBaseReport / GetReport (or our failure to get one)."""
    now = timezone.now()
    report = _report_for_update(charge_point_id=charge_point_id, request_id=request_id)
    newly_full = report_base == FULL_INVENTORY and report.report_base != FULL_INVENTORY
    if report_base and not report.report_base:
        report.report_base = report_base
    if criteria:
        report.criteria = criteria
    new_status = _ANSWER_STATUS.get(status, status)
    # Parts may have come first: an Accepted answer does not move a report backwards.
    if report.status not in (DeviceReport.Status.RECEIVING, DeviceReport.Status.COMPLETE) or (
        new_status != DeviceReport.Status.ACCEPTED
    ):
        report.status = new_status
    report.status_info = status_info[:500]
    if newly_full and report.status == DeviceReport.Status.COMPLETE:
        # The parts were merged before we knew it was a FullInventory: replace now.
        _replace_with(report, list(report.parts.order_by("seq_no")), now)
    else:
        _complete_if_whole(report, now)
    report.save()
    return report


# --------------------------------------------------------------------------- Get/SetVariables answers


def _entry(component: dict, variable: dict, attribute_type: str | None, value) -> dict:
    return {
        "component": component,
        "variable": variable,
        "variableAttribute": [{"type": attribute_type or ACTUAL, "value": value}],
    }


@transaction.atomic
def variables_get_answer_record(*, charge_point_id: int, results: list[dict]) -> int:
    """GetVariablesResponse.getVariableResult: store the values the charger gave."""
    entries = [
        _entry(r["component"], r["variable"], r.get("attributeType"), r.get("attributeValue"))
        for r in results
        if r.get("attributeStatus") == "Accepted"
    ]
    return _apply_entries(charge_point_id=charge_point_id, entries=entries, now=timezone.now(), value_only=True)


def _result_key(item: dict) -> tuple:
    return (_component_key(item["component"]), _variable_key(item["variable"]), item.get("attributeType") or ACTUAL)


@transaction.atomic
def variables_set_answer_record(*, charge_point_id: int, requested: list[dict], results: list[dict]) -> int:
    """SetVariablesResponse: the value we sent becomes the stored value where the charger
    accepted it (RebootRequired: accepted, effective after a reboot), and every attribute
    remembers the verdict."""
    now = timezone.now()
    sent = {_result_key(item): item.get("attributeValue") for item in requested}
    accepted = [
        _entry(r["component"], r["variable"], r.get("attributeType"), sent.get(_result_key(r)))
        for r in results
        if r.get("attributeStatus") in ("Accepted", "RebootRequired") and _result_key(r) in sent
    ]
    _apply_entries(charge_point_id=charge_point_id, entries=accepted, now=now, value_only=True)
    verdicts = {_result_key(r): r.get("attributeStatus", "") for r in results}
    attributes = VariableAttribute.objects.filter(variable__component__charge_point_id=charge_point_id).select_related(
        "variable__component"
    )
    touched = []
    for attribute in attributes:
        variable, component = attribute.variable, attribute.variable.component
        key = (_model_component_key(component), (variable.name.lower(), variable.instance.lower()), attribute.type)
        if key in verdicts:
            attribute.last_set_status = verdicts[key]
            attribute.last_set_value = None if is_secret(variable.name) else sent.get(key)
            attribute.last_set_at = now
            touched.append(attribute)
    VariableAttribute.objects.bulk_update(touched, ["last_set_status", "last_set_value", "last_set_at"])
    return len(touched)
