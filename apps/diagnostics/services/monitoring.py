"""Variable monitors (SetVariableMonitoring, ClearVariableMonitoring, SetMonitoringBase /
Level, NotifyMonitoringReport) and the events they raise (NotifyEvent)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.diagnostics.models import Monitor, MonitoringState, StationEvent, StationRequest
from apps.diagnostics.services.common import (
    component_variable,
    diagnostics_settings_get,
    part_store,
    station_request_answered,
    wire_time,
)


def _key(item: dict) -> tuple:
    cv = component_variable(item["component"], item["variable"])
    return tuple(sorted(cv.items())) + (item["type"], item["severity"])


@transaction.atomic
def monitoring_set_answered(*, charge_point_id: int, requested: list[dict], results: list[dict]) -> list[Monitor]:
    """Keep the monitors the station accepted, under the id it assigned. The results echo
    component, variable, type and severity but not the value, so each result is matched
    to the request entry with the same key (the spec does not promise the same order)."""
    pending: dict[tuple, list[dict]] = {}
    for item in requested:
        pending.setdefault(_key(item), []).append(item)
    now = timezone.now()
    kept = []
    for result in results:
        candidates = pending.get(_key(result)) or []
        item = candidates.pop(0) if candidates else None
        if result.get("status") != "Accepted" or item is None or result.get("id") is None:
            continue
        monitor, _ = Monitor.objects.update_or_create(
            charge_point_id=charge_point_id,
            monitor_id=result["id"],
            defaults={
                **component_variable(item["component"], item["variable"]),
                "type": item["type"],
                "value": item["value"],
                "severity": item["severity"],
                "transaction": item.get("transaction", False),
                "source": Monitor.Source.SET,
                "updated_at": now,
            },
        )
        kept.append(monitor)
    return kept


def monitoring_clear_answered(*, charge_point_id: int, results: list[dict]) -> int:
    # NotFound: the station has no such monitor, so neither should we.
    gone = [r["id"] for r in results if r.get("status") in ("Accepted", "NotFound")]
    deleted, _ = Monitor.objects.filter(charge_point_id=charge_point_id, monitor_id__in=gone).delete()
    return deleted


def monitoring_base_answered(*, charge_point_id: int, base: str, status: str) -> None:
    if status != "Accepted":
        return
    MonitoringState.objects.update_or_create(
        charge_point_id=charge_point_id, defaults={"base": base, "base_at": timezone.now()}
    )


def monitoring_level_answered(*, charge_point_id: int, severity: int, status: str) -> None:
    if status != "Accepted":
        return
    MonitoringState.objects.update_or_create(
        charge_point_id=charge_point_id, defaults={"level": severity, "level_at": timezone.now()}
    )


@transaction.atomic
def monitoring_report_part(
    *,
    charge_point_id: int,
    request_id: int,
    seq_no: int,
    tbc: bool,
    generated_at: datetime | None,
    monitors: list[dict],
) -> StationRequest:
    """One NotifyMonitoringReport. Each part's monitors are kept as they come (order does
    not matter); when the whole answer to an unfiltered request is in, monitors it did
    not mention are gone from the station and are dropped here too."""
    req, completed = part_store(
        charge_point_id=charge_point_id,
        kind=StationRequest.Kind.MONITORING_REPORT,
        request_id=request_id,
        seq_no=seq_no,
        tbc=tbc,
        payload={"monitor": monitors},
        generated_at=generated_at,
    )
    now = timezone.now()
    for entry in monitors:
        cv = component_variable(entry["component"], entry["variable"])
        for vm in entry["variableMonitoring"]:
            Monitor.objects.update_or_create(
                charge_point_id=charge_point_id,
                monitor_id=vm["id"],
                defaults={
                    **cv,
                    "type": vm["type"],
                    "value": vm["value"],
                    "severity": vm["severity"],
                    "transaction": vm["transaction"],
                    "event_notification_type": vm.get("eventNotificationType", ""),
                    "source": Monitor.Source.REPORTED,
                    "updated_at": now,
                },
            )
    if completed and not req.filtered:
        monitoring_report_sweep(request=req)
    return req


def monitoring_report_sweep(*, request: StationRequest) -> int:
    """Drop monitors a complete, unfiltered report did not list -- unless set after we asked."""
    seen = {
        vm["id"]
        for part in request.parts.all()
        for entry in part.payload.get("monitor", [])
        for vm in entry["variableMonitoring"]
    }
    stale = Monitor.objects.filter(charge_point_id=request.charge_point_id, updated_at__lt=request.created_at)
    deleted, _ = stale.exclude(monitor_id__in=seen).delete()
    return deleted


@transaction.atomic
def monitoring_report_answered(*, charge_point_id: int, request_id: int, status: str, params: dict) -> None:
    """GetMonitoringReport's answer. EmptyResultSet to an unfiltered request: no monitors."""
    req = station_request_answered(
        charge_point_id=charge_point_id,
        kind=StationRequest.Kind.MONITORING_REPORT,
        request_id=request_id,
        answer=status,
        params=params,
    )
    if status == "EmptyResultSet" and not req.filtered:
        StationRequest.objects.filter(pk=req.pk).update(complete=True, completed_at=timezone.now())
        monitoring_report_sweep(request=req)


@transaction.atomic
def events_record(
    *, charge_point_id: int, generated_at: datetime | None, seq_no: int, events: list[dict]
) -> list[StationEvent]:
    """NotifyEvent's eventData. Parts of a multi-part NotifyEvent are independent events,
    so each is stored as it comes; a repeated event (same id and timestamp) counts once."""
    threshold = diagnostics_settings_get().alert_max_severity
    monitor_ids = {e["variableMonitoringId"] for e in events if e.get("variableMonitoringId") is not None}
    monitor_severity = dict(
        Monitor.objects.filter(charge_point_id=charge_point_id, monitor_id__in=monitor_ids).values_list(
            "monitor_id", "severity"
        )
    )
    stored = []
    now = timezone.now()
    for e in events:
        severity = e.get("severity")
        if severity is None and e.get("variableMonitoringId") is not None:
            # 2.0.1 events carry no severity: the monitor that fired has one.
            severity = monitor_severity.get(e["variableMonitoringId"])
        cleared = bool(e.get("cleared", False))
        event, created = StationEvent.objects.get_or_create(
            charge_point_id=charge_point_id,
            event_id=e["eventId"],
            timestamp=wire_time(e["timestamp"]),
            defaults={
                **component_variable(e["component"], e["variable"]),
                "trigger": e["trigger"],
                "cause": e.get("cause"),
                "actual_value": e["actualValue"],
                "tech_code": e.get("techCode", ""),
                "tech_info": e.get("techInfo", ""),
                "cleared": cleared,
                "transaction_id": e.get("transactionId", ""),
                "variable_monitoring_id": e.get("variableMonitoringId"),
                "event_notification_type": e["eventNotificationType"],
                "severity": severity,
                "generated_at": generated_at,
                "received_at": now,
                "is_alert": not cleared and severity is not None and severity <= threshold,
            },
        )
        if not created:
            continue
        if cleared:
            _resolve_alerts(event)
        stored.append(event)
    return stored


def _resolve_alerts(cleared: StationEvent) -> None:
    """A cleared event ends the alerts its monitor (or, without one, its variable) raised."""
    if cleared.variable_monitoring_id is not None:
        same = Q(variable_monitoring_id=cleared.variable_monitoring_id)
    else:
        same = Q(
            component_name=cleared.component_name,
            component_instance=cleared.component_instance,
            evse_id=cleared.evse_id,
            variable_name=cleared.variable_name,
            variable_instance=cleared.variable_instance,
        )
    StationEvent.objects.filter(same, charge_point_id=cleared.charge_point_id, is_alert=True).filter(
        resolved_at__isnull=True, timestamp__lte=cleared.timestamp
    ).update(resolved_at=timezone.now())


def event_acknowledge(*, event: StationEvent, user) -> None:
    StationEvent.objects.filter(pk=event.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
