"""Network pages: chargers with live status, a charger's detail and commands, sessions."""

import json
from datetime import UTC

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import CAN_OPERATE_CHARGERS, CAN_VIEW_PORTAL, role_required
from apps.chargers.models import ChargePoint
from apps.charging.models import Transaction
from apps.csms.commands import InvalidCommand, command_send
from apps.portal import selectors_network as selectors
from apps.qr.services import connector_codes_ensure

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
COMMAND_TIMEOUT = 20


@role_required(CAN_VIEW_PORTAL)
def charger_list(request):
    q, state = request.GET.get("q", "").strip(), request.GET.get("state", "")
    chargers = Paginator(selectors.charger_list(q=q, state=state), 50).get_page(request.GET.get("page"))
    context = {"chargers": chargers, "summary": selectors.network_summary(), "q": q, "state": state}
    # The page refreshes its table and summary in place every few seconds (see the template's script).
    template = "portal/chargers/_live.html" if request.GET.get("partial") else "portal/chargers/list.html"
    return render(request, template, context)


def _v2_panel(charge_point: ChargePoint, connectors) -> dict:
    """What the 2.x command panel offers: the station's EVSEs and connectors (as reported
    by StatusNotification), its version's triggers, id token types and commands."""
    from apps.charging.models import IdToken
    from apps.csms.handlers import session_class

    pairs = sorted({(c.evse_id, c.connector_id) for c in connectors if c.evse_id and c.connector_id})
    cls = session_class(charge_point.protocol_version)
    return {
        "evses": sorted({e for e, _ in pairs}),
        "connectors": pairs,
        "triggers": _schema_enum(cls.version, "TriggerMessageRequest", "MessageTriggerEnumType"),
        "token_types": [t for t in IdToken.Type.values if t != IdToken.Type.NO_AUTHORIZATION],
        "actions": sorted(cls.outbound_actions) if cls else [],
    }


def _schema_enum(version: str, schema: str, definition: str) -> list[str]:
    import functools

    @functools.cache
    def load(version, schema, definition):
        from pathlib import Path

        import ocpp

        folder = {"2.0.1": "v201", "2.1": "v21"}[version]
        data = json.loads((Path(ocpp.__file__).parent / folder / "schemas" / f"{schema}.json").read_text())
        return list(data["definitions"][definition]["enum"])

    return load(version, schema, definition)


@role_required(CAN_VIEW_PORTAL)
def charger_detail(request, identity):
    charge_point = get_object_or_404(ChargePoint.objects.select_related("location"), identity=identity)
    context = {
        "cp": charge_point,
        **selectors.charger_detail(charge_point=charge_point),
        "quick_commands": QUICK_COMMANDS,
        "can_operate": request.user.role in CAN_OPERATE_CHARGERS,
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

    from apps.tariffs.selectors import tariff_for_charging

    now = timezone.now()
    context["tariffs"] = [
        (code.evse_id, tariff_for_charging(charge_point=charge_point, evse_id=code.evse_id, at=now))
        for code in context["qr_codes"]
    ]
    return render(request, "portal/chargers/detail.html", context)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_command(request, identity):
    charge_point = get_object_or_404(ChargePoint, identity=identity)
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
    try:
        result = command_send(
            charge_point=charge_point,
            action=action,
            payload=payload,
            user=request.user,
            timeout=COMMAND_TIMEOUT,
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
    from apps.charging.remote import remote_start

    identity = charge_point.identity
    tag = (request.POST.get("id_token") or "").strip()
    evse = (request.POST.get("evse_id") or "").strip()
    if not tag or (evse and not evse.isdigit()):
        messages.error(request, "RequestStartTransaction: give an idToken (and an EVSE number or none).")
        return redirect("portal:charger_detail", identity=identity)
    try:
        result = remote_start(
            charge_point=charge_point,
            id_tag=tag,
            id_token_type=request.POST.get("id_token_type", ""),
            evse_id=int(evse) if evse else None,
            user=request.user,
            timeout=COMMAND_TIMEOUT,
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


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_registration(request, identity):
    """Accept or reject a charger that registered itself as Pending. An accepted charger that
    is connected is asked to boot again at once (TriggerMessage BootNotification) instead
    of waiting for its next retry."""
    from apps.chargers.models import RegistrationStatus
    from apps.chargers.services import charge_point_update

    charge_point = get_object_or_404(ChargePoint, identity=identity)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        messages.error(request, "Choose accept or reject.")
        return redirect("portal:charger_detail", identity=identity)
    status = RegistrationStatus.ACCEPTED if decision == "accept" else RegistrationStatus.REJECTED
    charge_point_update(charge_point=charge_point, registration_status=status)
    note = ""
    if status == RegistrationStatus.ACCEPTED and charge_point.online:
        result = command_send(
            charge_point=charge_point,
            action="TriggerMessage",
            payload={"requestedMessage": "BootNotification"},
            user=request.user,
            timeout=COMMAND_TIMEOUT,
            source="portal",
        )
        note = " It was asked to boot again now." if result.status == "ok" else " It will be accepted at its next boot."
    messages.success(request, f"{identity} is {status.lower()}.{note}")
    return redirect("portal:charger_detail", identity=identity)


@role_required(CAN_VIEW_PORTAL)
def charger_messages(request, identity):
    charge_point = get_object_or_404(ChargePoint, identity=identity)
    q, action = request.GET.get("q", "").strip(), request.GET.get("action", "").strip()
    page = Paginator(selectors.message_search(charge_point=charge_point, q=q, action=action), 100)
    return render(
        request,
        "portal/chargers/messages.html",
        {"cp": charge_point, "messages_page": page.get_page(request.GET.get("page")), "q": q, "action": action},
    )


def _session_filters(request) -> dict:
    from django.utils.dateparse import parse_date

    get = request.GET

    def date(name):
        # An unparseable date is ignored rather than an error: it is a filter box.
        try:
            return parse_date(get.get(name) or "")
        except ValueError:
            return None

    return {
        "q": get.get("q", "").strip(),
        "status": get.get("status", ""),
        "location": get.get("location", ""),
        "charger": get.get("charger", "").strip(),
        "driver": get.get("driver", "").strip(),
        "date_from": date("date_from"),
        "date_to": date("date_to"),
    }


@role_required(CAN_VIEW_PORTAL)
def session_list(request):
    from apps.chargers.models import Location

    filters = _session_filters(request)
    sessions = Paginator(selectors.session_list(**filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/sessions/list.html",
        {
            "sessions": sessions,
            **filters,
            "statuses": Transaction.Status.choices,
            "locations": Location.objects.order_by("name"),
            "query": query.urlencode(),
        },
    )


@role_required(CAN_VIEW_PORTAL)
def session_detail(request, pk):
    tx = get_object_or_404(Transaction.objects.select_related("charge_point", "id_token"), pk=pk)
    series = selectors.session_energy_series(transaction=tx)
    from apps.billing.selectors import cdr_original, running_cost

    cdr = cdr_original(transaction_id=tx.pk)
    cost = None if cdr is not None else running_cost(transaction=tx)
    timeline = selectors.session_timeline(transaction=tx)
    idle = selectors.session_idle_seconds(transaction=tx, series=series)
    from apps.charging.transaction_events import transaction_events

    # OCPP 2.x: the TransactionEvents as the station numbered them (seqNo), gaps shown.
    events = transaction_events(transaction=tx) if tx.is_v2 else []
    return render(
        request,
        "portal/sessions/detail.html",
        {
            "tx": tx,
            "series": series,
            "cdr": cdr,
            "cost": cost,
            "timeline": timeline,
            "idle_seconds": idle,
            "events": events,
        },
    )


@role_required(CAN_VIEW_PORTAL)
def session_export(request):
    """The filtered session list as CSV (streamed: an operator may have years of sessions)."""
    import csv

    from django.http import StreamingHttpResponse

    class Echo:
        def write(self, value):
            return value

    qs = selectors.session_list(**_session_filters(request))
    writer = csv.writer(Echo())

    def rows():
        yield writer.writerow(
            [
                "session",
                "transaction_id",
                "charger",
                "location",
                "connector",
                "id_tag",
                "status",
                "started_at_utc",
                "stopped_at_utc",
                "duration_s",
                "meter_start_wh",
                "meter_stop_wh",
                "energy_wh",
                "stop_reason",
            ]
        )
        for tx in qs.iterator(chunk_size=2000):
            energy = tx.meter_stop - tx.meter_start if tx.meter_stop is not None else ""
            duration = int((tx.stopped_at - tx.started_at).total_seconds()) if tx.stopped_at else ""
            yield writer.writerow(
                [
                    tx.pk,
                    tx.transaction_id or "",
                    tx.charge_point.identity,
                    tx.charge_point.location.name if tx.charge_point.location else "",
                    tx.connector_id,
                    tx.id_tag,
                    tx.status,
                    tx.started_at.isoformat(),
                    tx.stopped_at.isoformat() if tx.stopped_at else "",
                    duration,
                    tx.meter_start,
                    tx.meter_stop if tx.meter_stop is not None else "",
                    energy,
                    tx.stop_reason,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sessions.csv"'
    return response
