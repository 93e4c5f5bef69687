"""Portal pages for a charger's diagnostics (log uploads, events and alerts), monitoring,
customer information (GDPR) and display messages.

Commands go through the command bus and wait for the station's answer; what an answer
means for our records is stored by the OCPP session (its answered_* hooks), so commands
sent from the API console are understood the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.chargers.models import ChargePoint, Location
from apps.charging.models import IdToken
from apps.csms.commands import send_command
from apps.diagnostics import selectors
from apps.diagnostics import services as diag
from apps.diagnostics.models import DisplayMessage, LogRequest, StationEvent, StationRequest
from apps.portal import ui

SEVERITIES = [
    (0, "0 Danger"),
    (1, "1 Hardware failure"),
    (2, "2 System failure"),
    (3, "3 Critical"),
    (4, "4 Error"),
    (5, "5 Alert"),
    (6, "6 Warning"),
    (7, "7 Notice"),
    (8, "8 Informational"),
    (9, "9 Debug"),
]


MONITOR_TYPES = ["UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"]


PRIORITIES = ["NormalCycle", "InFront", "AlwaysFront"]


STATES = ["", "Idle", "Charging", "Faulted", "Unavailable"]


FORMATS = ["UTF8", "ASCII", "HTML", "URI"]


ID_TOKEN_TYPES = ["ISO14443", "ISO15693", "eMAID", "Central", "KeyCode", "Local", "MacAddress", "NoAuthorization"]


def _local_datetime(raw: str, name: str) -> datetime | None:
    """A datetime-local field, in the organisation's time zone (activated per request)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return timezone.make_aware(datetime.fromisoformat(raw)).astimezone(UTC)
    except ValueError:
        raise ValueError(f"{name} is not a date and time.") from None


def _int(raw, name: str, *, minimum: int | None = None, maximum: int | None = None, default=None) -> int | None:
    raw = (raw or "").strip() if isinstance(raw, str) else raw
    if raw in ("", None):
        if default is not None:
            return default
        raise ValueError(f"{name} is required.")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number.") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be between {minimum} and {maximum}.")
    return value


def _page(request, cp: ChargePoint, **context) -> dict:
    return {
        "cp": cp,
        "v2": cp.is_ocpp2,
        "can_customer_data": allowed(request.user, "customer_data"),
        **context,
    }


def _v2_only(request, cp: ChargePoint) -> bool:
    if cp.is_ocpp2:
        return True
    messages.error(request, f"{cp.identity} speaks {cp.get_protocol_version_display()}; this needs OCPP 2.0.1 or 2.1.")
    return False


# ---------------------------------------------------------------------------------------- diagnostics
@role_required("diagnostics.view")
def diagnostics(request, identity):
    cp = ui.charger_or_404(identity)
    get = request.GET
    try:
        severity_max = _int(get.get("severity"), "severity", minimum=0, maximum=9, default=-1)
    except ValueError:
        severity_max = -1
    severity_max = None if severity_max == -1 else severity_max
    component, cleared = get.get("component", "").strip(), get.get("cleared", "")
    events = selectors.station_events(charge_point=cp, severity_max=severity_max, component=component, cleared=cleared)
    context = {
        "log_requests": selectors.log_requests(charge_point=cp),
        "log_types": [(t.value, t.label) for t in LogRequest.LogType if t != LogRequest.LogType.DIAGNOSTICS_16],
        "alerts": list(selectors.open_alerts(charge_point=cp)[:50]),
        "events": list(events[:200]),
        "series": selectors.event_series(charge_point=cp, qs=events),
        "components": selectors.event_components(charge_point=cp),
        "severity": "" if severity_max is None else severity_max,
        "component": component,
        "cleared": cleared,
        "severities": SEVERITIES,
        "settings": diag.diagnostics_settings_get(),
        "is_admin": allowed(request.user, "diagnostics.settings"),
        "max_mb": diag.upload_max_bytes() // (1024 * 1024),
    }
    return render(request, "diagnostics/diagnostics.html", _page(request, cp, **context))


@role_required("diagnostics.view")
@require_POST
def log_request(request, identity):
    cp = ui.charger_or_404(identity)
    back = redirect("portal:diagnostics", identity=identity)
    try:
        oldest = _local_datetime(request.POST.get("oldest", ""), "From")
        latest = _local_datetime(request.POST.get("latest", ""), "Until")
        log_request = diag.log_request_create(
            charge_point=cp, log_type=request.POST.get("log_type", ""), oldest=oldest, latest=latest, user=request.user
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return back
    action, payload = diag.log_request_payload(log_request=log_request)
    answer, status = ui.command_flash(request, cp, action, payload)
    if answer is None:
        diag.log_request_answered(charge_point_id=cp.pk, log_request_id=log_request.pk, answer=status)
        return back
    if action == "GetDiagnostics":
        # 1.6 has no status: an answer means it will try; the file name is optional.
        diag.log_request_answered(
            charge_point_id=cp.pk, log_request_id=log_request.pk, answer="Accepted", filename=answer.get("fileName", "")
        )
        messages.success(request, "GetDiagnostics: the charger will upload its diagnostics.")
    else:
        # The session stored the answer already; this covers a 1.6 -> 2.x switch mid-flight.
        diag.log_request_answered(
            charge_point_id=cp.pk,
            log_request_id=log_request.pk,
            answer=answer.get("status", ""),
            filename=answer.get("filename", ""),
        )
        ui.answer_flash(request, "GetLog", answer, ok=("Accepted", "AcceptedCanceled"))
    return back


@role_required("diagnostics.view")
def log_download(request, identity, pk):
    cp = ui.charger_or_404(identity)
    log_request = selectors.log_request_get(charge_point=cp, pk=pk)
    if log_request is None or not log_request.file:
        raise Http404("No file for this request.")
    return FileResponse(
        log_request.file.open("rb"),
        as_attachment=True,
        filename=log_request.file_name or "log",
        content_type=log_request.content_type or "application/octet-stream",
    )


@role_required("diagnostics.view")
@require_POST
def event_acknowledge(request, identity, pk):
    cp = ui.charger_or_404(identity)
    event = get_object_or_404(StationEvent, charge_point=cp, pk=pk)
    diag.event_acknowledge(event=event, user=request.user)
    messages.success(request, "Alert acknowledged.")
    return redirect("portal:diagnostics", identity=identity)


@role_required("diagnostics.settings")
@require_POST
def diagnostics_settings(request, identity):
    try:
        value = _int(request.POST.get("alert_max_severity"), "Alert severity", minimum=0, maximum=9)
        diag.diagnostics_settings_update(alert_max_severity=value)
        messages.success(request, f"Events with severity {value} or lower now raise an alert.")
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("portal:diagnostics", identity=identity)


# ---------------------------------------------------------------------------------------- monitoring
@role_required("diagnostics.view")
def monitoring(request, identity):
    cp = ui.charger_or_404(identity)
    context = {
        "monitors": selectors.monitors(charge_point=cp),
        "state": selectors.monitoring_state(charge_point=cp),
        "reports": selectors.station_requests(charge_point=cp, kind=StationRequest.Kind.MONITORING_REPORT, limit=5),
        "severities": SEVERITIES,
        "types": MONITOR_TYPES,
    }
    return render(request, "diagnostics/monitoring.html", _page(request, cp, **context))


def _monitor_payload(post) -> dict:
    component = {"name": post.get("component", "").strip()}
    variable = {"name": post.get("variable", "").strip()}
    if not component["name"] or not variable["name"]:
        raise ValueError("Component and variable are required.")
    if post.get("component_instance", "").strip():
        component["instance"] = post["component_instance"].strip()
    if post.get("evse_id", "").strip():
        component["evse"] = {"id": _int(post["evse_id"], "EVSE", minimum=0)}
        if post.get("connector_id", "").strip():
            component["evse"]["connectorId"] = _int(post["connector_id"], "Connector", minimum=0)
    if post.get("variable_instance", "").strip():
        variable["instance"] = post["variable_instance"].strip()
    monitor_type = post.get("type", "")
    if monitor_type not in MONITOR_TYPES:
        raise ValueError("Choose a monitor type.")
    try:
        value = float(post.get("value", ""))
    except ValueError:
        raise ValueError("The value must be a number.") from None
    item = {
        "value": value,
        "type": monitor_type,
        "severity": _int(post.get("severity"), "Severity", minimum=0, maximum=9),
        "component": component,
        "variable": variable,
    }
    if post.get("transaction"):
        item["transaction"] = True
    return item


@role_required("diagnostics.view")
@require_POST
def monitoring_command(request, identity):
    cp = ui.charger_or_404(identity)
    back = redirect("portal:monitoring", identity=identity)
    if not _v2_only(request, cp):
        return back
    op, post = request.POST.get("op", ""), request.POST
    try:
        if op == "add":
            item = _monitor_payload(post)
            answer, _ = ui.command_flash(request, cp, "SetVariableMonitoring", {"setMonitoringData": [item]})
            for result in (answer or {}).get("setMonitoringResult", []):
                ui.answer_flash(request, "SetVariableMonitoring", result)
        elif op == "clear":
            ids = [_int(v, "Monitor id", minimum=0) for v in post.getlist("id")]
            if not ids:
                raise ValueError("Choose monitors to clear.")
            answer, _ = ui.command_flash(request, cp, "ClearVariableMonitoring", {"id": ids})
            for result in (answer or {}).get("clearMonitoringResult", []):
                ui.answer_flash(request, f"Clear monitor {result.get('id')}", result, ok=("Accepted", "NotFound"))
        elif op == "base":
            base = post.get("base", "")
            if base not in ("All", "FactoryDefault", "HardWiredOnly"):
                raise ValueError("Choose a monitoring base.")
            answer, _ = ui.command_flash(request, cp, "SetMonitoringBase", {"monitoringBase": base})
            # FactoryDefault / HardWiredOnly remove custom monitors on the station: re-read them.
            if answer is not None and ui.answer_flash(request, "SetMonitoringBase", answer):
                _monitoring_report(request, cp)
        elif op == "level":
            severity = _int(post.get("severity"), "Severity", minimum=0, maximum=9)
            answer, _ = ui.command_flash(request, cp, "SetMonitoringLevel", {"severity": severity})
            if answer is not None:
                ui.answer_flash(request, "SetMonitoringLevel", answer)
        elif op == "report":
            _monitoring_report(request, cp)
        else:
            raise ValueError("Unknown operation.")
    except ValueError as exc:
        messages.error(request, str(exc))
    return back


def _monitoring_report(request, cp: ChargePoint) -> None:
    req = diag.station_request_create(
        charge_point=cp, kind=StationRequest.Kind.MONITORING_REPORT, params={}, user=request.user
    )
    answer, _ = ui.command_flash(request, cp, "GetMonitoringReport", req.params)
    if answer is not None:
        ui.answer_flash(request, "GetMonitoringReport", answer, ok=("Accepted", "EmptyResultSet"))


# ---------------------------------------------------------------------------------------- customer information
@role_required("customer_data")
def customer_information(request, identity):
    cp = ui.charger_or_404(identity)
    if request.method == "POST":
        return _customer_information_send(request, cp)
    requests = selectors.station_requests(charge_point=cp, kind=StationRequest.Kind.CUSTOMER_INFORMATION)
    shown = None
    if request.GET.get("request"):
        try:
            shown = selectors.customer_request_get(charge_point=cp, pk=int(request.GET["request"]))
        except ValueError:
            shown = None
    context = {
        "requests": requests,
        "shown": shown or (requests[0] if requests else None),
        "token_types": ID_TOKEN_TYPES,
        "id_token": request.GET.get("id_token", ""),
        "id_token_type": request.GET.get("type", "ISO14443"),
    }
    return render(request, "diagnostics/customer_information.html", _page(request, cp, **context))


def _customer_information_send(request, cp: ChargePoint):
    back = redirect("portal:customer_information", identity=cp.identity)
    if not _v2_only(request, cp):
        return back
    post = request.POST
    report, clear = bool(post.get("report")), bool(post.get("clear"))
    if not report and not clear:
        messages.error(request, "Ask for a report, a clear, or both.")
        return back
    params: dict = {"report": report, "clear": clear}
    token, identifier = post.get("id_token", "").strip(), post.get("customer_identifier", "").strip()
    if token:
        token_type = post.get("id_token_type", "ISO14443")
        if token_type not in ID_TOKEN_TYPES:
            messages.error(request, "Unknown token type.")
            return back
        params["idToken"] = {"idToken": token, "type": token_type}
    if identifier:
        params["customerIdentifier"] = identifier
    # N09/N10: a report or clear names exactly one customer.
    if not token and not identifier:
        messages.error(request, "Give the customer's id token or customer identifier.")
        return back
    req = diag.station_request_create(
        charge_point=cp, kind=StationRequest.Kind.CUSTOMER_INFORMATION, params=params, user=request.user
    )
    answer, status = ui.command_flash(request, cp, "CustomerInformation", req.params)
    diag.station_request_answered(
        charge_point_id=cp.pk,
        kind=StationRequest.Kind.CUSTOMER_INFORMATION,
        request_id=req.request_id,
        answer=(answer or {}).get("status", status),
    )
    if answer is not None:
        ui.answer_flash(request, "CustomerInformation", answer)
    response = redirect("portal:customer_information", identity=cp.identity)
    response["Location"] += f"?request={req.pk}"
    return response


# ---------------------------------------------------------------------------------------- display messages
@role_required("diagnostics.view")
def display_messages(request, identity):
    cp = ui.charger_or_404(identity)
    if request.method == "POST":
        return _display_command(request, cp)
    context = {
        "display_messages": selectors.display_messages(charge_point=cp),
        "reports": selectors.station_requests(charge_point=cp, kind=StationRequest.Kind.DISPLAY_MESSAGES, limit=3),
        "priorities": PRIORITIES,
        "states": STATES,
        "formats": FORMATS,
        "next_id": diag.display_message_next_id(charge_point=cp),
    }
    return render(request, "diagnostics/display_messages.html", _page(request, cp, **context))


def message_info_from_form(post, *, message_id: int) -> dict:
    content = post.get("content", "")
    if not content.strip():
        raise ValueError("The message is empty.")
    if len(content) > 512:
        raise ValueError("A message holds at most 512 characters.")
    message_format = post.get("format", "UTF8")
    if message_format not in FORMATS:
        raise ValueError("Unknown message format.")
    if message_format == "ASCII" and not content.isascii():
        raise ValueError("An ASCII message may hold ASCII characters only.")
    priority = post.get("priority", "NormalCycle")
    if priority not in PRIORITIES:
        raise ValueError("Unknown priority.")
    message = {"format": message_format, "content": content}
    if post.get("language", "").strip():
        message["language"] = post["language"].strip()[:8]
    info: dict = {"id": message_id, "priority": priority, "message": message}
    if post.get("state") and post["state"] in STATES:
        info["state"] = post["state"]
    start = _local_datetime(post.get("start", ""), "Start")
    end = _local_datetime(post.get("end", ""), "End")
    if start and end and end <= start:
        raise ValueError("The message ends before it starts.")
    if start:
        info["startDateTime"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    if end:
        info["endDateTime"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    if post.get("transaction_id", "").strip():
        info["transactionId"] = post["transaction_id"].strip()[:36]
    return info


def _display_command(request, cp: ChargePoint):
    back = redirect("portal:display_messages", identity=cp.identity)
    if not _v2_only(request, cp):
        return back
    op = request.POST.get("op", "")
    try:
        if op == "set":
            message_id = _int(
                request.POST.get("message_id"),
                "Message id",
                minimum=0,
                default=diag.display_message_next_id(charge_point=cp),
            )
            info = message_info_from_form(request.POST, message_id=message_id)
            answer, _ = ui.command_flash(request, cp, "SetDisplayMessage", {"message": info})
            if answer is not None and ui.answer_flash(request, "SetDisplayMessage", answer):
                DisplayMessage.objects.filter(charge_point=cp, message_id=message_id).update(set_by=request.user)
        elif op == "clear":
            message_id = _int(request.POST.get("id"), "Message id", minimum=0)
            answer, _ = ui.command_flash(request, cp, "ClearDisplayMessage", {"id": message_id})
            if answer is not None:
                ui.answer_flash(request, "ClearDisplayMessage", answer)
        elif op == "refresh":
            req = diag.station_request_create(
                charge_point=cp, kind=StationRequest.Kind.DISPLAY_MESSAGES, params={}, user=request.user
            )
            answer, _ = ui.command_flash(request, cp, "GetDisplayMessages", req.params)
            if answer is not None:
                ui.answer_flash(request, "GetDisplayMessages", answer, ok=("Accepted", "Unknown"))
        else:
            raise ValueError("Unknown operation.")
    except ValueError as exc:
        messages.error(request, str(exc))
    return back


@role_required("diagnostics.view")
def location_display_message(request, pk):
    """One message to every OCPP 2.x charger of a location, queued (fire-and-forget):
    each charger's answer lands in its command history and display list."""
    from django.db import transaction

    location = get_object_or_404(Location, pk=pk)
    chargers = list(selectors.v2_chargers_at(location_id=location.pk))
    if request.method == "POST":
        if not chargers:
            messages.error(request, "This location has no OCPP 2.0.1 / 2.1 chargers.")
            return redirect("portal:location_display_message", pk=pk)
        try:
            message_info_from_form(request.POST, message_id=0)  # validate once, before queueing
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("portal:location_display_message", pk=pk)
        for cp in chargers:
            info = message_info_from_form(request.POST, message_id=diag.display_message_next_id(charge_point=cp))
            transaction.on_commit(
                lambda cp_id=cp.pk, info=info: send_command.delay(
                    cp_id, "SetDisplayMessage", {"message": info}, request.user.pk
                )
            )
        messages.success(
            request, f"Message sent to {len(chargers)} charger(s); their answers are on each charger's page."
        )
        return redirect("portal:location_display_message", pk=pk)
    context = {
        "location": location,
        "chargers": chargers,
        "priorities": PRIORITIES,
        "states": STATES,
        "formats": FORMATS,
    }
    return render(request, "diagnostics/location_display_message.html", context)


@role_required("customer_data")
def token_customer_information(request, pk):
    """From a card's page: which chargers could hold data about this token (the OCPP 2.x
    ones; 1.6 has no CustomerInformation), each linking to its prefilled request form."""

    token = get_object_or_404(IdToken, pk=pk)
    chargers = selectors.v2_chargers()
    used = set(token.transactions.values_list("charge_point_id", flat=True).distinct())
    rows = sorted(chargers, key=lambda cp: (cp.pk not in used, cp.identity))
    return render(
        request,
        "diagnostics/token_customer_information.html",
        {"token": token, "rows": [(cp, cp.pk in used) for cp in rows]},
    )
