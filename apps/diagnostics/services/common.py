"""Shared pieces: organisation settings, request ids, multi-part answers."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.diagnostics.models import DiagnosticsSettings, ReportPart, StationRequest

INT32 = 2**31 - 1


class UploadRefused(Exception):
    """A log upload we do not take; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def diagnostics_settings_get() -> DiagnosticsSettings:
    settings_row, _ = DiagnosticsSettings.objects.get_or_create(pk=1)
    return settings_row


def diagnostics_settings_update(*, alert_max_severity: int) -> DiagnosticsSettings:
    if not 0 <= alert_max_severity <= 9:
        raise ValueError("Severity runs from 0 (danger) to 9 (debug).")
    DiagnosticsSettings.objects.update_or_create(pk=1, defaults={"alert_max_severity": alert_max_severity})
    return diagnostics_settings_get()


def wire_time(value: str | None) -> datetime | None:
    """A date-time the session already checked, or None; without an offset it is UTC (as OCPP requires)."""
    parsed = parse_datetime(value) if value else None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def component_variable(component: dict, variable: dict) -> dict:
    """ComponentType + VariableType (wire, camelCase) -> model fields."""
    evse = component.get("evse") or {}
    return {
        "component_name": component["name"],
        "component_instance": component.get("instance", ""),
        "evse_id": evse.get("id"),
        "connector_id": evse.get("connectorId"),
        "variable_name": variable["name"],
        "variable_instance": variable.get("instance", ""),
    }


def next_request_id(qs) -> int:
    top = qs.aggregate(m=Max("request_id"))["m"] or 0
    return top + 1 if top < INT32 else 1


def create_with_request_id(qs, create):
    """Give a new row the charger's next free request id; two pages asking at once both
    get one (the unique constraint decides, the loser takes the next)."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return create(next_request_id(qs))
        except IntegrityError:
            continue
    raise IntegrityError("could not allocate a request id")


def station_request_create(*, charge_point, kind: str, params: dict, user=None) -> StationRequest:
    """A request whose answer comes in parts; `params` is the command payload without
    requestId (it is added here)."""

    def create(request_id):
        return StationRequest.objects.create(
            charge_point=charge_point,
            kind=kind,
            request_id=request_id,
            params={**params, "requestId": request_id},
            requested_by=user if user is not None and user.is_authenticated else None,
        )

    return create_with_request_id(StationRequest.objects.filter(charge_point=charge_point, kind=kind), create)


def station_request_answered(
    *, charge_point_id: int, kind: str, request_id: int, answer: str, params: dict | None = None
) -> StationRequest:
    """The station's answer to the request; a request someone else sent (the raw console)
    is recorded here with what it asked, so its parts are understood."""
    req = _request_for(charge_point_id, kind, request_id)
    req.answer = answer[:30]
    if not req.params and params:
        req.params = params
    req.save(update_fields=["answer", "params"])
    return req


@transaction.atomic
def _request_for(charge_point_id: int, kind: str, request_id: int) -> StationRequest:
    """The request a part belongs to, locked; created for a request EVzone did not make
    (the raw console, another tool) so its answer is still kept."""
    try:
        with transaction.atomic():
            StationRequest.objects.get_or_create(charge_point_id=charge_point_id, kind=kind, request_id=request_id)
    except IntegrityError:
        pass  # created at the same moment by someone else: fine, it exists
    return StationRequest.objects.select_for_update().get(
        charge_point_id=charge_point_id, kind=kind, request_id=request_id
    )


@transaction.atomic
def part_store(
    *,
    charge_point_id: int,
    kind: str,
    request_id: int,
    seq_no: int | None,
    tbc: bool,
    payload: dict,
    generated_at: datetime | None = None,
) -> tuple[StationRequest, bool]:
    """Keep one part; returns (request, completed_now). Parts may come in any order and
    a part sent twice counts once: the request is complete when the part with tbc=false
    and every seqNo before it are there (seqNo counts from 0)."""
    req = _request_for(charge_point_id, kind, request_id)
    if seq_no is None:
        # No seqNo on the wire (NotifyDisplayMessages): arrival order, under the lock.
        seq_no = req.parts.count()
    ReportPart.objects.get_or_create(
        request=req,
        seq_no=seq_no,
        defaults={"charge_point_id": charge_point_id, "tbc": tbc, "payload": payload, "generated_at": generated_at},
    )
    if req.complete:
        return req, False
    parts = dict(req.parts.values_list("seq_no", "tbc"))
    last = [s for s, more in parts.items() if not more]
    if not last or not all(s in parts for s in range(min(last))):
        return req, False
    req.complete, req.completed_at = True, timezone.now()
    req.save(update_fields=["complete", "completed_at"])
    return req, True
