"""Reads for the diagnostics, monitoring, customer information and display pages."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.chargers.models import OCPP2_VERSIONS, ChargePoint, ChargerEvent
from apps.diagnostics.models import (
    DisplayMessage,
    LogRequest,
    Monitor,
    MonitoringState,
    StationEvent,
    StationRequest,
)


def log_requests(*, charge_point: ChargePoint, limit: int = 20) -> list[LogRequest]:
    """Newest first, each with `.steps`: its status timeline. 1.6 DiagnosticsStatusNotification
    carries no request id, so a 1.6 request's steps are the notifications between it and
    the next request (the charger does one upload at a time)."""
    rows = list(
        LogRequest.objects.filter(charge_point=charge_point)
        .select_related("requested_by")
        .prefetch_related("timeline")[:limit]
    )
    newer_start = None
    for row in rows:  # newest first
        if row.log_type == LogRequest.LogType.DIAGNOSTICS_16:
            events = ChargerEvent.objects.filter(
                charge_point=charge_point, kind="DiagnosticsStatusNotification", timestamp__gte=row.created_at
            )
            if newer_start is not None:
                events = events.filter(timestamp__lt=newer_start)
            row.steps = [(e.timestamp, e.status, e.info) for e in events.order_by("timestamp", "id")]
            if row.steps:
                row.status = row.steps[-1][1]
        else:
            row.steps = [(e.received_at, e.status, e.info) for e in row.timeline.all()]
        newer_start = row.created_at
    return rows


def log_request_get(*, charge_point: ChargePoint, pk: int) -> LogRequest | None:
    return LogRequest.objects.filter(charge_point=charge_point, pk=pk).first()


def station_events(
    *,
    charge_point: ChargePoint,
    severity_max: int | None = None,
    component: str = "",
    cleared: str = "",
):
    qs = StationEvent.objects.filter(charge_point=charge_point)
    if severity_max is not None:
        qs = qs.filter(severity__isnull=False, severity__lte=severity_max)
    if component:
        qs = qs.filter(component_name__icontains=component)
    if cleared == "yes":
        qs = qs.filter(cleared=True)
    elif cleared == "no":
        qs = qs.filter(cleared=False)
    return qs


def event_components(*, charge_point: ChargePoint) -> list[str]:
    return list(
        StationEvent.objects.filter(charge_point=charge_point)
        .values_list("component_name", flat=True)
        .distinct()
        .order_by("component_name")
    )


def event_series(*, charge_point: ChargePoint, days: int = 14, qs=None) -> list[dict]:
    """Events per day (in the organisation's time zone) for the page's bar chart."""
    today = timezone.localdate()
    since = today - timedelta(days=days - 1)
    qs = qs if qs is not None else StationEvent.objects.filter(charge_point=charge_point)
    per_day = dict(
        qs.filter(timestamp__date__gte=since)
        .annotate(day=TruncDate("timestamp"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [
        {"day": (since + timedelta(days=i)).isoformat(), "count": per_day.get(since + timedelta(days=i), 0)}
        for i in range(days)
    ]


def open_alerts(*, charge_point: ChargePoint | None = None):
    qs = StationEvent.objects.filter(is_alert=True, resolved_at__isnull=True, acknowledged_at__isnull=True)
    if charge_point is not None:
        qs = qs.filter(charge_point=charge_point)
    return qs.select_related("charge_point")


def open_alert_counts() -> dict[int, int]:
    """charge point id -> open alerts (for a list page badge)."""
    return dict(
        open_alerts().values_list("charge_point_id").annotate(n=Count("id")).values_list("charge_point_id", "n")
    )


def monitors(*, charge_point: ChargePoint):
    return Monitor.objects.filter(charge_point=charge_point)


def monitoring_state(*, charge_point: ChargePoint) -> MonitoringState | None:
    return MonitoringState.objects.filter(charge_point=charge_point).first()


def station_requests(*, charge_point: ChargePoint, kind: str, limit: int = 10):
    return (
        StationRequest.objects.filter(charge_point=charge_point, kind=kind)
        .select_related("requested_by")
        .prefetch_related("parts")[:limit]
    )


def customer_request_get(*, charge_point: ChargePoint, pk: int) -> StationRequest | None:
    return StationRequest.objects.filter(
        charge_point=charge_point, kind=StationRequest.Kind.CUSTOMER_INFORMATION, pk=pk
    ).first()


def display_messages(*, charge_point: ChargePoint):
    order = {"AlwaysFront": 0, "InFront": 1, "NormalCycle": 2}
    return sorted(
        DisplayMessage.objects.filter(charge_point=charge_point).select_related("set_by"),
        key=lambda m: (order.get(m.priority, 9), m.message_id),
    )


V2 = Q(protocol_version__in=OCPP2_VERSIONS)


def v2_chargers_at(*, location_id: int):
    return ChargePoint.objects.filter(V2, location_id=location_id)


def v2_chargers():
    return ChargePoint.objects.filter(V2).select_related("location")
