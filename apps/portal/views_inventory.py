"""Network inventory: a charger's connectors (physical attributes, declared before or after
the charger first connects), and bulk import/export of chargers and locations."""

import base64

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from apps.accounts.permissions import CAN_MANAGE_ORGANIZATION, CAN_OPERATE_CHARGERS, CAN_VIEW_PORTAL, role_required
from apps.chargers import ocpi, services
from apps.chargers.models import ChargePoint, Connector, Location
from apps.chargers.resources import ChargePointResource, LocationResource
from apps.charging.resources import IdTokenResource
from apps.core import imports
from apps.portal.views_locations import location_filter

MAX_UPLOAD = 5 * 1024 * 1024
RESOURCES = {"cards": IdTokenResource, "locations": LocationResource, "chargers": ChargePointResource}


class ConnectorForm(forms.Form):
    standard = forms.ChoiceField(choices=[("", "—")] + ocpi.choices(ocpi.CONNECTOR_TYPES), required=False)
    format = forms.ChoiceField(choices=[("", "—")] + ocpi.choices(ocpi.CONNECTOR_FORMATS), required=False)
    power_type = forms.ChoiceField(choices=[("", "—")] + ocpi.choices(ocpi.POWER_TYPES), required=False)
    max_voltage = forms.IntegerField(required=False, min_value=1, label="Max V")
    max_amperage = forms.IntegerField(required=False, min_value=1, label="Max A")
    max_electric_power = forms.IntegerField(required=False, min_value=1, label="Max W")
    evse_uid = forms.CharField(required=False, max_length=36, label="EVSE uid")
    ocpi_evse_id = forms.CharField(required=False, max_length=48, label="EVSE ID (eMI3)")
    physical_reference = forms.CharField(required=False, max_length=16, label="Label")


class DeclareForm(ConnectorForm):
    evse_id = forms.IntegerField(min_value=1, label="EVSE")
    connector_id = forms.IntegerField(min_value=1, label="Connector")


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@role_required(CAN_VIEW_PORTAL)
def charger_connectors(request, identity):
    charge_point = get_object_or_404(ChargePoint, identity=identity)
    can_edit = request.user.role in CAN_OPERATE_CHARGERS
    connectors = list(charge_point.connectors.filter(connector_id__gt=0, evse_id__gt=0))
    bound = {}  # connector pk (or "new") → form that failed, re-shown with its errors
    if request.method == "POST":
        if not can_edit:
            return HttpResponse(status=403)
        action, form = request.POST.get("action"), None
        try:
            if action == "remove":
                connector = get_object_or_404(Connector, pk=request.POST.get("connector"), charge_point=charge_point)
                services.connector_remove(connector=connector)
                messages.success(request, f"Removed connector {connector.evse_id}/{connector.connector_id}.")
                return redirect(request.path)
            if action == "declare":
                form = bound["new"] = DeclareForm(request.POST, prefix="new")
                if form.is_valid():
                    data = form.cleaned_data
                    services.connector_declare(charge_point=charge_point, **data)
                    messages.success(request, f"Declared connector {data['evse_id']}/{data['connector_id']}.")
                    return redirect(request.path)
            elif action == "save":
                connector = get_object_or_404(Connector, pk=request.POST.get("connector"), charge_point=charge_point)
                form = bound[connector.pk] = ConnectorForm(request.POST, prefix=f"c{connector.pk}")
                if form.is_valid():
                    services.connector_update(connector=connector, **form.cleaned_data)
                    messages.success(request, f"Saved connector {connector.evse_id}/{connector.connector_id}.")
                    return redirect(request.path)
        except ValidationError as exc:
            if form is None:
                messages.error(request, " ".join(exc.messages))
            else:
                _add_errors(form, exc)
    rows = []
    for c in connectors:
        initial = {name: getattr(c, name) for name in ConnectorForm.base_fields}
        rows.append((c, bound.get(c.pk) or ConnectorForm(initial=initial, prefix=f"c{c.pk}")))
    next_evse = max([c.evse_id for c in connectors], default=0) + 1
    declare = bound.get("new") or DeclareForm(
        prefix="new", initial={"evse_id": next_evse, "connector_id": next_evse, "format": "SOCKET"}
    )
    return render(
        request,
        "portal/chargers/connectors.html",
        {"charge_point": charge_point, "rows": rows, "declare": declare, "can_edit": can_edit},
    )


# --------------------------------------------------------------------------- import / export

IMPORTS = {
    "chargers": {
        "title": "chargers",
        "columns": "identity, name, location, security_profile, password, vendor, model, connectors",
        "list_url": "portal:charger_list",
        "export_url": "portal:charger_export",
        "roles": CAN_OPERATE_CHARGERS,
    },
    "cards": {
        "title": "RFID cards",
        "columns": "id_token, type, status, label, group_id, expires_at, owner_email",
        "list_url": "portal:idtoken_list",
        "export_url": "portal:idtoken_export",
        "roles": CAN_OPERATE_CHARGERS,
    },
    "locations": {
        "title": "locations",
        "columns": ", ".join(("id", *services.LOCATION_FIELDS)),
        "list_url": "portal:location_list",
        "export_url": "portal:location_export",
        "roles": CAN_MANAGE_ORGANIZATION,
    },
}


def _import(request, kind: str):
    """Upload → dry-run preview with a per-row report → confirm, as for RFID cards. The
    file waits in the session (one slot per kind) so the confirmed data is exactly what
    was previewed."""
    spec = IMPORTS[kind]
    session_key = f"import_file_{kind}"
    report, error = None, None
    if request.method == "POST":
        content = filename = None
        if "confirm" in request.POST:
            stored = request.session.get(session_key)
            if stored is None:
                error = "The previewed file has expired; upload it again."
            else:
                content, filename = base64.b64decode(stored["content"]), stored["name"]
        else:
            upload = request.FILES.get("file")
            if upload is None:
                error = "Choose a CSV or XLSX file."
            elif upload.size > MAX_UPLOAD:
                error = "The file is larger than 5 MB."
            else:
                content, filename = upload.read(), upload.name
                request.session[session_key] = {"content": base64.b64encode(content).decode(), "name": filename}
        if error is None:
            try:
                dataset = imports.dataset_load(content=content, filename=filename)
                report = imports.import_run(
                    resource_class=RESOURCES[kind], dataset=dataset, dry_run="confirm" not in request.POST
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                _mask_passwords(report)
                if report.applied:
                    request.session.pop(session_key, None)
                    messages.success(
                        request,
                        f"Imported {report.count('new')} new and updated {report.count('update')} {spec['title']}.",
                    )
                    return redirect(spec["list_url"])
    return render(request, "portal/imports/import.html", {"report": report, "error": error, "kind": kind, "spec": spec})


def _mask_passwords(report) -> None:
    # The preview page must not echo charger passwords back (screens get shared).
    if "password" in report.headers:
        column = report.headers.index("password")
        for row in report.rows:
            if column < len(row.values) and row.values[column] not in (None, ""):
                row.values[column] = "••••"


def _export(kind: str, queryset, fmt: str, filename: str) -> HttpResponse:
    dataset = RESOURCES[kind]().export(queryset)
    if fmt == "xlsx":
        body, content_type = dataset.export("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        body, content_type = dataset.export("csv"), "text/csv; charset=utf-8"
    else:
        return HttpResponse("Export as csv or xlsx.", status=404)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@role_required(CAN_OPERATE_CHARGERS)
def charger_import(request):
    return _import(request, "chargers")


@role_required(CAN_OPERATE_CHARGERS)
def card_import(request):
    return _import(request, "cards")


@role_required(CAN_VIEW_PORTAL)
def card_export(request, fmt):
    from apps.charging.models import IdToken

    return _export("cards", IdToken.objects.select_related("owner").order_by("id_token"), fmt, "rfid-cards")


@role_required(CAN_MANAGE_ORGANIZATION)
def location_import(request):
    return _import(request, "locations")


@role_required(CAN_VIEW_PORTAL)
def charger_export(request, fmt):
    queryset = ChargePoint.objects.select_related("location").prefetch_related("connectors").order_by("identity")
    return _export("chargers", queryset, fmt, "chargers")


@role_required(CAN_VIEW_PORTAL)
def location_export(request, fmt):
    queryset = location_filter(Location.objects.order_by("name"), request.GET)
    return _export("locations", queryset, fmt, "locations")
