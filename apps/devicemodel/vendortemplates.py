"""Vendor templates (B02, Pending with configuration): per organisation, a make (vendor,
model, firmware prefix) gets a list of SetVariables entries and optionally a network
profile. A charger of that make that boots Pending (and, if the template says so, one that
boots Accepted without ever having had it) gets them a moment after its BootNotification
answer has gone out; apps.devicemodel.provisioning.template_apply sends them.

This module never sends anything itself: the OCPP session imports it at boot.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.chargers.models import ChargePoint, RegistrationStatus
from apps.core.tenancy import queue_after_commit
from apps.devicemodel.models import TemplateApplication, VendorTemplate

log = logging.getLogger(__name__)

# The BootNotification answer must reach the charger before we send it anything.
BOOT_DELAY = 2.0
# A Pending charger boots again every retry interval; do not start a second run of the
# same template while one is under way, nor retry a failed one more often than this.
RUN_GRACE = timedelta(minutes=5)

# One setting per line:  Component[instance]@evse:connector.Variable[instance]/AttributeType = value
# e.g.  OCPPCommCtrlr.OfflineThreshold = 300      EVSE@1.AvailabilityState/Target = Available
_LINE = re.compile(
    r"^\s*(?P<c>[^\s.\[@=/]+)(?:\[(?P<ci>[^\]]*)\])?(?:@(?P<evse>\d+)(?::(?P<conn>\d+))?)?"
    r"\.(?P<v>[^\s.\[=/]+)(?:\[(?P<vi>[^\]]*)\])?(?:/(?P<t>Actual|Target|MinSet|MaxSet))?\s*=\s?(?P<value>.*)$"
)


def template_lines_parse(text: str) -> list[dict]:
    """The template form's text into SetVariableData entries (wire form)."""
    entries, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            errors.append(f"line {number}: write Component.Variable = value")
            continue
        component: dict = {"name": match["c"]}
        if match["ci"]:
            component["instance"] = match["ci"]
        if match["evse"]:
            component["evse"] = {"id": int(match["evse"])}
            if match["conn"]:
                component["evse"]["connectorId"] = int(match["conn"])
        variable: dict = {"name": match["v"]}
        if match["vi"]:
            variable["instance"] = match["vi"]
        entry = {"component": component, "variable": variable, "attributeValue": match["value"].rstrip()}
        if match["t"]:
            entry["attributeType"] = match["t"]
        if len(entry["attributeValue"]) > 1000:
            errors.append(f"line {number}: a value has at most 1000 characters")
        entries.append(entry)
    if errors:
        raise ValidationError({"variables": errors})
    return entries


def entry_label(entry: dict) -> str:
    c, v = entry["component"], entry["variable"]
    text = c["name"] + (f"[{c['instance']}]" if c.get("instance") else "")
    if c.get("evse"):
        text += f"@{c['evse']['id']}" + (f":{c['evse']['connectorId']}" if "connectorId" in c["evse"] else "")
    text += "." + v["name"] + (f"[{v['instance']}]" if v.get("instance") else "")
    if entry.get("attributeType"):
        text += "/" + entry["attributeType"]
    return text


def template_lines_format(entries: list[dict]) -> str:
    return "\n".join(f"{entry_label(e)} = {e.get('attributeValue', '')}" for e in entries)


@transaction.atomic
def vendor_template_save(*, template: VendorTemplate | None = None, variables_text: str = "", **fields):
    """Create or update a template; every saved change is a new revision (chargers that got
    an older one get the new one at their next Pending boot)."""
    template = template or VendorTemplate()
    for name in ("name", "enabled", "vendor", "model", "firmware_prefix", "apply_on_accepted_boot", "auto_accept"):
        if name in fields:
            setattr(template, name, fields[name].strip() if isinstance(fields[name], str) else fields[name])
    if "network_profile" in fields:
        template.network_profile = fields["network_profile"] or None
    template.variables = template_lines_parse(variables_text)
    if not template.variables and not template.network_profile:
        raise ValidationError({"variables": "A template sets at least one variable or a network profile."})
    if template.pk:
        template.revision += 1
    template.full_clean()
    template.save()
    return template


def vendor_template_delete(*, template: VendorTemplate) -> None:
    # Runs keep their record (template_name); only the link goes.
    template.delete()


def vendor_template_match(*, vendor: str, model: str, firmware_version: str = "") -> VendorTemplate | None:
    """The most specific enabled template for a make: a firmware prefix beats a model match,
    which beats a vendor-wide template."""
    if not vendor:
        return None
    candidates = VendorTemplate.objects.filter(enabled=True, vendor__iexact=vendor).filter(
        Q(model="") | Q(model__iexact=model)
    )
    best, best_score = None, None
    for template in candidates:
        prefix = template.firmware_prefix
        if prefix and not (firmware_version or "").startswith(prefix):
            continue
        score = (len(prefix), bool(template.model), -template.pk)
        if best_score is None or score > best_score:
            best, best_score = template, score
    return best


def provisioning_boot(*, charge_point_id: int, registration_status: str) -> TemplateApplication | None:
    """For the BootNotification handler (after its answer is decided): when a template
    applies to this charger, record a run and queue it a moment later. Never sends."""
    cp = ChargePoint.objects.filter(pk=charge_point_id).first()
    if cp is None or not cp.is_ocpp2:
        return None
    template = vendor_template_match(vendor=cp.vendor, model=cp.model, firmware_version=cp.firmware_version)
    if template is None:
        return None
    runs = TemplateApplication.objects.filter(charge_point=cp, template=template, template_revision=template.revision)
    if registration_status == RegistrationStatus.PENDING:
        # Done for this revision, or started (and maybe still running, or failed) a moment
        # ago: the charger's next Pending boot comes soon enough.
        if runs.filter(
            Q(status=TemplateApplication.Status.APPLIED) | Q(created_at__gte=timezone.now() - RUN_GRACE)
        ).exists():
            return None
        trigger = "pending_boot"
    elif registration_status == RegistrationStatus.ACCEPTED and template.apply_on_accepted_boot:
        # "Never applied": any run of any revision that got through counts.
        if (
            TemplateApplication.objects.filter(
                charge_point=cp, template=template, status=TemplateApplication.Status.APPLIED
            ).exists()
            or runs.filter(created_at__gte=timezone.now() - RUN_GRACE).exists()
        ):
            return None
        trigger = "accepted_boot"
    else:
        return None
    run = TemplateApplication.objects.create(
        charge_point=cp,
        template=template,
        template_name=template.name,
        template_revision=template.revision,
        trigger=trigger,
    )
    from apps.devicemodel.tasks import template_run

    queue_after_commit(template_run, run.pk, countdown=BOOT_DELAY)
    return run
