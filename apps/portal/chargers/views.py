"""Charger pages: chargers with live status, a charger's detail, commands, registration and
message log, its connectors (physical attributes, declared before or after the charger first
connects), and bulk import/export of chargers."""

import json
from datetime import UTC

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.chargers import selectors, services
from apps.chargers.models import ChargePoint, Connector, RegistrationStatus
from apps.chargers.services import charge_point_update
from apps.charging import selectors as charging_selectors
from apps.charging.models import IdToken
from apps.charging.remote import remote_start
from apps.csms import selectors as csms_selectors
from apps.csms.catalogue import catalogue_for, console_rule
from apps.csms.commands import InvalidCommand, command_send
from apps.portal import bulk, ui
from apps.portal.chargers.forms import ConnectorForm, DeclareForm, RegistrationForm, RemoteStartForm
from apps.qr.services import connector_codes_ensure
from apps.tariffs.selectors import tariff_for_charging

# The buttons on a charger's page: action → (label, payload fields the form asks for).
QUICK_COMMANDS = {
    "RemoteStartTransaction": "Start charging",
    "RemoteStopTransaction": "Stop charging",
    "Reset": "Reset",
    "UnlockConnector": "Unlock connector",
    "ChangeAvailability": "Change availability",
    "GetConfiguration": "Read configuration",
    "ChangeConfiguration": "Change configuration",
    "TriggerMessage": "Trigger message",
    "ClearCache": "Clear authorisation cache",
    "UpdateFirmware": "Update firmware",
    "GetDiagnostics": "Upload diagnostics",
}


@role_required("chargers.view")
def charger_list(request):
    q, state = request.GET.get("q", "").strip(), request.GET.get("state", "")
    listed = selectors.charger_list(q=q, state=state).prefetch_related(
        charging_selectors.active_transactions_prefetch()
    )
    chargers = Paginator(listed, 50).get_page(request.GET.get("page"))
    context = {"chargers": chargers, "summary": selectors.network_summary(), "q": q, "state": state}
    # The page refreshes its table and summary in place every few seconds (see the template's script).
    template = "portal/chargers/_live.html" if request.GET.get("partial") else "portal/chargers/list.html"
    return render(request, template, context)


def _v2_panel(charge_point: ChargePoint, connectors) -> dict:
    """What the 2.x command panel offers: the station's EVSEs and connectors (as reported
    by StatusNotification), its version's triggers, id token types and commands."""

    pairs = sorted({(c.evse_id, c.connector_id) for c in connectors if c.evse_id and c.connector_id})
    # The action catalogue, not the protocol adapter: the page needs the version's commands only.
    entry = catalogue_for(charge_point.protocol_version)
    return {
        "evses": sorted({e for e, _ in pairs}),
        "connectors": pairs,
        "triggers": list(entry.triggers) if entry else [],
        "token_types": [t for t in IdToken.Type.values if t != IdToken.Type.NO_AUTHORIZATION],
        "actions": sorted(entry.outbound) if entry else [],
    }


@role_required("chargers.view")
def charger_detail(request, identity):
    charge_point = ui.charger_or_404(identity)
    context = {
        "cp": charge_point,
        **selectors.charger_state(charge_point=charge_point),
        "live_power": charging_selectors.live_power(charge_point=charge_point),
        "transactions": charging_selectors.recent_transactions(charge_point=charge_point),
        "commands": csms_selectors.recent_commands(charge_point=charge_point),
        # The OCPP log carries card numbers: shown to whom "chargers.messages" allows.
        "log_messages": csms_selectors.message_search(charge_point=charge_point)[:15]
        if allowed(request.user, "chargers.messages")
        else None,
        "quick_commands": QUICK_COMMANDS,
        "can_operate": allowed(request.user, "chargers.operate"),
        "last_result": request.session.pop(f"cmd-result-{charge_point.pk}", None),
    }
    if charge_point.is_ocpp2:
        context["v2"] = _v2_panel(charge_point, context.get("connectors") or [])
    if request.GET.get("partial"):
        return render(request, "portal/chargers/_detail_live.html", context)
    # Every connector gets its stable QR code the first time anyone looks.
    context["qr_codes"] = connector_codes_ensure(charge_point=charge_point)
    # What an anonymous driver would pay at each EVSE now (members may get their group's price).
    from django.utils import timezone

    now = timezone.now()
    context["tariffs"] = [
        (code.evse_id, tariff_for_charging(charge_point=charge_point, evse_id=code.evse_id, at=now))
        for code in context["qr_codes"]
    ]
    return render(request, "portal/chargers/detail.html", context)


@role_required("chargers.operate")
@require_POST
def charger_command(request, identity):
    charge_point = ui.charger_or_404(identity)
    action = request.POST.get("action", "")
    if action == "RequestStartTransaction" and not request.POST.get("payload"):
        return _remote_start_from_form(request, charge_point)
    try:
        payload = _payload_from_form(action, request.POST, charge_point=charge_point)
    except json.JSONDecodeError as exc:
        messages.error(request, f"The payload is not valid JSON: {exc}")
        return redirect("portal:charger_detail", identity=identity)
    except ValueError as exc:
        messages.error(request, f"{action}: {exc}")
        return redirect("portal:charger_detail", identity=identity)
    # The panel is a raw console too: each action (and payload) has its own rule, the API's.
    if not allowed(request.user, console_rule(action, payload)):
        raise PermissionDenied
    try:
        result = command_send(
            charge_point=charge_point,
            action=action,
            payload=payload,
            user=request.user,
            timeout=ui.COMMAND_TIMEOUT,
            source="portal",
        )
    except InvalidCommand as exc:
        messages.error(request, f"{action}: {exc}")
        return redirect("portal:charger_detail", identity=identity)
    _remember_result(request, charge_point, action, result)
    return redirect("portal:charger_detail", identity=identity)


def _remember_result(request, charge_point, action, result) -> None:
    request.session[f"cmd-result-{charge_point.pk}"] = {
        "action": action,
        "status": result.status,
        "latency_ms": result.latency_ms,
        "response": json.dumps(result.response if result.response is not None else result.error, indent=2),
    }


def _remote_start_from_form(request, charge_point):
    """2.x "Start": through apps.charging.remote so the request gets its remoteStartId
    (and the transaction the station then reports is tied to it)."""

    identity = charge_point.identity
    form = RemoteStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "RequestStartTransaction: give an idToken (and an EVSE number or none).")
        return redirect("portal:charger_detail", identity=identity)
    try:
        result = remote_start(
            charge_point=charge_point,
            id_tag=form.cleaned_data["id_token"],
            id_token_type=form.cleaned_data["id_token_type"],
            evse_id=form.cleaned_data["evse_id"],
            user=request.user,
            timeout=ui.COMMAND_TIMEOUT,
            source="portal",
        )
    except InvalidCommand as exc:
        messages.error(request, f"RequestStartTransaction: {exc}")
        return redirect("portal:charger_detail", identity=identity)
    _remember_result(request, charge_point, "RequestStartTransaction", result)
    return redirect("portal:charger_detail", identity=identity)


def _payload_from_form(action: str, data, charge_point: ChargePoint | None = None) -> dict:
    """The command forms on a charger's page post plain fields; the raw console posts JSON.
    Either way the payload is validated against the OCPP schema by command_send. The same
    form field means what the charger's OCPP version says (2.x: EVSE / connector pairs)."""
    if data.get("payload"):
        return json.loads(data["payload"])

    def integer(name, default=None):
        raw = (data.get(name) or "").strip()
        if not raw:
            if default is None:
                raise ValueError(f"{name} is required.")
            return default
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number.") from None

    if charge_point is not None and charge_point.is_ocpp2:
        return _payload_v2(action, data, integer)

    if action == "ChangeAvailability":
        return {"connectorId": integer("connectorId", 0), "type": data.get("type", "")}
    if action == "TriggerMessage":
        payload = {"requestedMessage": data.get("requestedMessage", "")}
        if (data.get("connectorId") or "").strip():
            payload["connectorId"] = integer("connectorId")
        return payload
    if action == "ChangeConfiguration":
        return {"key": data.get("key", "").strip(), "value": data.get("value", "")}
    if action == "UpdateFirmware":
        from django.utils import timezone

        raw = (data.get("retrieveDate") or "").strip()
        if raw:
            # The form's datetime-local is the organisation's local time (activated per request).
            from datetime import datetime

            try:
                local = timezone.make_aware(datetime.fromisoformat(raw))
            except ValueError:
                raise ValueError("retrieveDate is not a date and time.") from None
        else:
            local = timezone.now()
        when = local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"location": data.get("location", "").strip(), "retrieveDate": when}
    if action == "GetDiagnostics":
        return {"location": data.get("location", "").strip()}
    return {}


def _evse_field(data, name: str = "evse_connector") -> dict | None:
    """ "2/1" -> {"id": 2, "connectorId": 1}; "2" -> {"id": 2}; "" -> None (the station)."""
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    evse, _, connector = raw.partition("/")
    try:
        result = {"id": int(evse)}
        if connector:
            result["connectorId"] = int(connector)
    except ValueError:
        raise ValueError("Choose an EVSE (and connector) from the list.") from None
    return result


def _payload_v2(action: str, data, integer) -> dict:
    if action == "ChangeAvailability":
        payload = {"operationalStatus": data.get("operationalStatus", "")}
        evse = _evse_field(data)
        if evse:
            payload["evse"] = evse
        return payload
    if action == "TriggerMessage":
        payload = {"requestedMessage": data.get("requestedMessage", "")}
        evse = _evse_field(data)
        if evse:
            payload["evse"] = evse
        return payload
    if action == "UnlockConnector":
        evse = _evse_field(data) or {}
        if "connectorId" not in evse:
            raise ValueError("Choose a connector.")
        return {"evseId": evse["id"], "connectorId": evse["connectorId"]}
    if action == "Reset":
        payload = {"type": data.get("type", "")}
        if (data.get("evse_id") or "").strip():
            payload["evseId"] = integer("evse_id")
        return payload
    if action == "RequestStopTransaction":
        tx_id = (data.get("transaction_id") or "").strip()
        if not tx_id:
            raise ValueError("transactionId is required.")
        return {"transactionId": tx_id}
    return {}


@role_required("chargers.change")
@require_POST
def charger_registration(request, identity):
    """Accept or reject a charger that registered itself as Pending. An accepted charger that
    is connected is asked to boot again at once (TriggerMessage BootNotification) instead
    of waiting for its next retry."""

    charge_point = ui.charger_or_404(identity)
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or reject.")
        return redirect("portal:charger_detail", identity=identity)
    accept = form.cleaned_data["decision"] == "accept"
    status = RegistrationStatus.ACCEPTED if accept else RegistrationStatus.REJECTED
    charge_point_update(charge_point=charge_point, registration_status=status)
    note = ""
    if status == RegistrationStatus.ACCEPTED and charge_point.online:
        result = command_send(
            charge_point=charge_point,
            action="TriggerMessage",
            payload={"requestedMessage": "BootNotification"},
            user=request.user,
            timeout=ui.COMMAND_TIMEOUT,
            source="portal",
        )
        note = " It was asked to boot again now." if result.status == "ok" else " It will be accepted at its next boot."
    messages.success(request, f"{identity} is {status.lower()}.{note}")
    return redirect("portal:charger_detail", identity=identity)


@role_required("chargers.messages")
def charger_messages(request, identity):
    charge_point = ui.charger_or_404(identity)
    q, action = request.GET.get("q", "").strip(), request.GET.get("action", "").strip()
    page = Paginator(csms_selectors.message_search(charge_point=charge_point, q=q, action=action), 100)
    return render(
        request,
        "portal/chargers/messages.html",
        {"cp": charge_point, "messages_page": page.get_page(request.GET.get("page")), "q": q, "action": action},
    )


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@role_required("chargers.view")
def charger_connectors(request, identity):
    charge_point = ui.charger_or_404(identity)
    can_edit = allowed(request.user, "chargers.operate")
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


@role_required("chargers.change")
def charger_import(request):
    return bulk.import_page(request, "chargers")


@role_required("chargers.view")
def charger_export(request, fmt):
    queryset = ChargePoint.objects.select_related("location").prefetch_related("connectors").order_by("identity")
    return bulk.export_response("chargers", queryset, fmt, "chargers")
