"""OCPP 2.x device model pages: a charger's device model (browse, Get/Set variables,
reports, reset, network profile, vendor template), its security page (password rotation,
profile upgrade, security events) and the vendor templates. 1.6 chargers get a page that
points to their configuration keys."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.chargers.models import ChargePoint
from apps.csms.commands import InvalidCommand
from apps.devicemodel import provisioning, security, selectors
from apps.devicemodel.models import SecurityProfileUpgrade, VariableAttribute, VendorTemplate
from apps.devicemodel.services import is_secret
from apps.devicemodel.vendortemplates import (
    entry_label,
    template_lines_parse,
    vendor_template_delete,
    vendor_template_match,
    vendor_template_save,
)
from apps.portal import ui
from apps.portal.devicemodel.forms import NetworkProfileForm, ProfileUpgradeForm, TemplateApplyForm, VendorTemplateForm

RESULT_KEY = "dm-result-{}"


def _back(identity: str, page: str = "devicemodel_charger"):
    return redirect(f"portal:{page}", identity=identity)


def _remember(request, cp: ChargePoint, title: str, rows: list[dict], note: str = "") -> None:
    """Show these per-variable results on the next render of the charger's page."""
    request.session[RESULT_KEY.format(cp.pk)] = {"title": title, "rows": rows, "note": note}


def _rows(results: list[dict], sent: dict | None = None) -> list[dict]:
    sent = sent or {}
    rows = []
    for r in results:
        info = r.get("attributeStatusInfo") or {}
        label = entry_label(r)
        rows.append(
            {
                "setting": label,
                "status": r.get("attributeStatus", ""),
                "value": r.get("attributeValue", sent.get(label, "")),
                "info": " ".join(filter(None, (info.get("reasonCode"), info.get("additionalInfo")))),
            }
        )
    return rows


@role_required("devicemodel.view")
def charger_device_model(request, identity):
    cp = ui.charger_or_404(identity)
    context = {"cp": cp, "is_2x": cp.is_ocpp2, "can_operate": allowed(request.user, "devicemodel.change")}
    if cp.is_ocpp2:
        q, component = request.GET.get("q", "").strip(), request.GET.get("component", "").strip()
        context.update(
            q=q,
            component=component,
            components=selectors.device_model_components(charge_point=cp, component=component, q=q),
            component_names=selectors.device_model_component_names(charge_point=cp),
            summary=selectors.device_model_summary(charge_point=cp),
            runs=selectors.template_runs(charge_point=cp),
            matching_template=vendor_template_match(
                vendor=cp.vendor, model=cp.model, firmware_version=cp.firmware_version
            ),
            templates=VendorTemplate.objects.filter(enabled=True),
            report_bases=provisioning.REPORT_BASES,
            result=request.session.pop(RESULT_KEY.format(cp.pk), None),
            reset_types=["OnIdle", "Immediate"] + (["ImmediateAndResume"] if cp.is_ocpp21 else []),
        )
    return render(request, "devicemodel/charger.html", context)


def _operable(request, identity) -> ChargePoint | None:
    cp = ui.charger_or_404(identity)
    if not cp.is_ocpp2:
        messages.error(request, "The device model is OCPP 2.x; this charger speaks 1.6.")
        return None
    return cp


@role_required("devicemodel.change")
@require_POST
def charger_report(request, identity):
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity)
    try:
        if request.POST.get("kind") == "custom":
            component, variable = request.POST.get("component", "").strip(), request.POST.get("variable", "").strip()
            cvs = None
            if component:
                cvs = [{"component": {"name": component}, **({"variable": {"name": variable}} if variable else {})}]
            criteria = request.POST.getlist("criteria")
            if not cvs and not criteria:
                raise ValidationError("Name a component or choose at least one criterion.")
            reports = provisioning.device_report_request(
                charge_point=cp, component_variables=cvs, component_criteria=criteria or None, user=request.user
            )
        else:
            reports = [
                provisioning.device_base_report_request(
                    charge_point=cp, report_base=request.POST.get("report_base", ""), user=request.user
                )
            ]
    except (InvalidCommand, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return _back(identity)
    for report in reports:
        level = messages.success if report.status in ("Accepted", "Receiving", "Complete") else messages.error
        level(request, f"Report #{report.request_id} ({report.report_base or 'GetReport'}): {report.status}.")
    return _back(identity)


def _batch_message(request, cp, title, batch, sent=None):
    counts: dict[str, int] = {}
    for status in batch.statuses():
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    note = f"{batch.calls} request{'s' if batch.calls != 1 else ''} (the charger's limits)"
    _remember(request, cp, title, _rows(batch.results, sent), note)
    (messages.success if batch.ok else messages.error)(request, f"{title}: {summary or 'nothing sent'}.")


@role_required("devicemodel.change")
@require_POST
def charger_set_variables(request, identity):
    """One attribute from the table (attribute id + value) or free lines
    `Component.Variable = value` (the vendor template syntax)."""
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity)
    try:
        if request.POST.get("attribute"):
            attribute = get_object_or_404(
                VariableAttribute.objects.select_related("variable__component"),
                pk=request.POST["attribute"],
                variable__component__charge_point=cp,
            )
            if attribute.mutability == VariableAttribute.Mutability.READ_ONLY:
                raise ValidationError("This attribute is read-only.")
            item = {
                "component": attribute.variable.component.wire(),
                "variable": attribute.variable.wire(),
                "attributeValue": request.POST.get("value", ""),
            }
            if attribute.type != VariableAttribute.Type.ACTUAL:
                item["attributeType"] = attribute.type
            items = [item]
        else:
            items = template_lines_parse(request.POST.get("lines", ""))
            if not items:
                raise ValidationError("Write at least one line: Component.Variable = value")
        batch = provisioning.device_variables_set(charge_point=cp, items=items, user=request.user)
    except (InvalidCommand, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return _back(identity)
    sent = {entry_label(i): "••••" if is_secret(i["variable"]["name"]) else i["attributeValue"] for i in items}
    _batch_message(request, cp, "SetVariables", batch, sent)
    return _back(identity)


@role_required("devicemodel.change")
@require_POST
def charger_get_variables(request, identity):
    """Read the current values of one component's variables (or of all), split as needed."""
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity)
    attributes = VariableAttribute.objects.filter(variable__component__charge_point=cp).exclude(
        mutability=VariableAttribute.Mutability.WRITE_ONLY
    )
    if request.POST.get("component"):
        attributes = attributes.filter(variable__component_id=request.POST["component"])
    items = []
    for a in attributes.select_related("variable__component").order_by("variable__component__name", "variable__name"):
        item = {"component": a.variable.component.wire(), "variable": a.variable.wire()}
        if a.type != VariableAttribute.Type.ACTUAL:
            item["attributeType"] = a.type
        items.append(item)
    if not items:
        messages.error(request, "Nothing to read: ask for a report first.")
        return _back(identity)
    try:
        batch = provisioning.device_variables_get(charge_point=cp, items=items, user=request.user)
    except InvalidCommand as exc:
        messages.error(request, str(exc))
        return _back(identity)
    _batch_message(request, cp, "GetVariables", batch)
    return _back(identity)


@role_required("devicemodel.change")
@require_POST
def charger_reset(request, identity):
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity)
    evse = (request.POST.get("evse_id") or "").strip()
    try:
        result = provisioning.device_reset(
            charge_point=cp,
            reset_type=request.POST.get("type", ""),
            evse_id=int(evse) if evse else None,
            user=request.user,
        )
    except (InvalidCommand, ValueError) as exc:
        messages.error(request, f"Reset: {exc}")
        return _back(identity)
    _command_message(request, "Reset", result)
    return _back(identity)


def _command_message(request, action, result):
    if result.status == "ok":
        status = (result.response or {}).get("status", "answered")
        (messages.success if status in ("Accepted", "Scheduled") else messages.error)(request, f"{action}: {status}.")
    else:
        messages.error(request, f"{action}: {result.status}{' ' + json.dumps(result.error) if result.error else ''}.")


@role_required("devicemodel.change")
@require_POST
def charger_network_profile(request, identity):
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity)
    form = NetworkProfileForm(request.POST)
    if not form.is_valid():
        messages.error(request, "SetNetworkProfile: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
        return _back(identity)
    payload = provisioning.network_profile_payload(charge_point=cp, **form.cleaned_data)
    try:
        result = provisioning.network_profile_set(charge_point=cp, payload=payload, user=request.user)
    except InvalidCommand as exc:
        messages.error(request, f"SetNetworkProfile: {exc}")
        return _back(identity)
    _command_message(request, "SetNetworkProfile", result)
    return _back(identity)


@role_required("devicemodel.change")
@require_POST
def charger_template_apply(request, identity):
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity)
    form = TemplateApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a vendor template to apply.")
        return _back(identity)
    template = form.cleaned_data["template"]
    try:
        run = provisioning.template_run_now(charge_point=cp, template=template, user=request.user)
    except InvalidCommand as exc:
        messages.error(request, str(exc))
        return _back(identity)
    accepted = " The charger was accepted." if run.accepted_charger else ""
    level = messages.success if run.status == "Applied" else messages.error
    level(request, f"Template {template.name}: {run.status.lower()}.{accepted}")
    return _back(identity)


@role_required("devicemodel.view")
def charger_security(request, identity):
    cp = ui.charger_or_404(identity)
    context = {
        "cp": cp,
        "is_2x": cp.is_ocpp2,
        "can_operate": allowed(request.user, "devicemodel.change"),
        **selectors.security_overview(charge_point=cp),
        "higher_profiles": [p for p in (1, 2, 3) if p > cp.security_profile],
    }
    return render(request, "devicemodel/security.html", context)


@role_required("devicemodel.change")
@require_POST
def charger_password_rotate(request, identity):
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity, "devicemodel_security")
    try:
        rotation = security.password_rotate(charge_point=cp, user=request.user)
    except (InvalidCommand, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return _back(identity, "devicemodel_security")
    text = {
        "Accepted": "The charger accepted the new password; it uses it from its next connection on.",
        "Rejected": "The charger refused the new password; the old one stays.",
        "Unconfirmed": "No answer from the charger; the old password stays. Try again when it is online.",
    }[rotation.status]
    (messages.success if rotation.status == "Accepted" else messages.error)(request, text)
    return _back(identity, "devicemodel_security")


@role_required("devicemodel.change")
@require_POST
def charger_profile_upgrade(request, identity):
    cp = _operable(request, identity)
    if cp is None:
        return _back(identity, "devicemodel_security")
    form = ProfileUpgradeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Upgrade: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
        return _back(identity, "devicemodel_security")
    try:
        upgrade = security.profile_upgrade_start(charge_point=cp, user=request.user, **form.cleaned_data)
    except (InvalidCommand, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return _back(identity, "devicemodel_security")
    if upgrade.status == SecurityProfileUpgrade.Status.SENT:
        messages.success(
            request, f"Profile {upgrade.target_profile} sent; confirm here once the charger is back on it."
        )
    else:
        messages.error(request, "The charger refused a step of the upgrade; its profile is unchanged.")
    return _back(identity, "devicemodel_security")


@role_required("devicemodel.change")
@require_POST
def charger_profile_upgrade_decide(request, identity, pk, decision):
    cp = ui.charger_or_404(identity)
    upgrade = get_object_or_404(SecurityProfileUpgrade, pk=pk, charge_point=cp)
    if decision == "cancel":
        security.profile_upgrade_cancel(upgrade=upgrade)
        messages.success(request, "Upgrade cancelled; the stored profile is unchanged.")
    else:
        try:
            security.profile_upgrade_confirm(upgrade=upgrade, user=request.user)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"{identity} is on security profile {upgrade.target_profile} now.")
    return _back(identity, "devicemodel_security")


@role_required("devicemodel.view")
def template_list(request):
    return render(
        request,
        "devicemodel/template_list.html",
        {
            "templates": VendorTemplate.objects.all(),
            "can_edit": allowed(request.user, "devicemodel.change"),
        },
    )


@role_required("devicemodel.change")
def template_edit(request, pk=None):
    template = get_object_or_404(VendorTemplate, pk=pk) if pk else None
    form = VendorTemplateForm(request.POST or None, instance=template or VendorTemplate())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            template = vendor_template_save(
                template=template,
                variables_text=data.pop("variables_text"),
                network_profile=data.pop("network_profile_json"),
                **data,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "variables" in exc.error_dict:
                exc = ValidationError({**exc.error_dict, "variables_text": exc.error_dict.pop("variables")})
            ui.form_errors(form, exc)
        else:
            messages.success(request, f"Saved template {template.name} (revision {template.revision}).")
            return redirect("portal:devicemodel_template_list")
    return render(request, "devicemodel/template_edit.html", {"form": form, "template": template})


@role_required("devicemodel.change")
@require_POST
def template_delete(request, pk):
    template = get_object_or_404(VendorTemplate, pk=pk)
    vendor_template_delete(template=template)
    messages.success(request, f"Deleted template {template.name}.")
    return redirect("portal:devicemodel_template_list")
