"""Reads about the network: chargers with their live state and one charger's own state."""

from django.db.models import Count, Prefetch, Q

from apps.chargers.models import ChargePoint, Connector, ConnectorStatusHistory

# Connector statuses grouped the way an operator reads the network (1.6 and 2.x names).
CHARGING = {"Charging", "SuspendedEV", "SuspendedEVSE", "Occupied", "Preparing", "Finishing"}


FAULTED = {"Faulted"}


AVAILABLE = {"Available"}


def network_summary() -> dict:
    """Counts per state: chargers offline; online chargers' connectors by status."""
    chargers = ChargePoint.objects.aggregate(
        total=Count("id"),
        online=Count("id", filter=Q(online=True)),
        pending=Count("id", filter=Q(registration_status="Pending")),
    )
    connectors = dict(
        Connector.objects.filter(charge_point__online=True, connector_id__gt=0)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {
        "chargers": chargers["total"],
        "online": chargers["online"],
        "offline": chargers["total"] - chargers["online"],
        "pending": chargers["pending"],
        "available": sum(n for s, n in connectors.items() if s in AVAILABLE),
        "charging": sum(n for s, n in connectors.items() if s in CHARGING),
        "faulted": sum(n for s, n in connectors.items() if s in FAULTED),
    }


def charger_list(*, q: str = "", state: str = ""):
    qs = ChargePoint.objects.select_related("location").prefetch_related(
        Prefetch("connectors", queryset=Connector.objects.filter(connector_id__gt=0)),
    )
    if q:
        qs = qs.filter(
            Q(identity__icontains=q)
            | Q(name__icontains=q)
            | Q(location__name__icontains=q)
            | Q(vendor__icontains=q)
            | Q(model__icontains=q)
        )
    if state == "online":
        qs = qs.filter(online=True)
    elif state == "offline":
        qs = qs.filter(online=False)
    elif state == "faulted":
        qs = qs.filter(connectors__status__in=FAULTED).distinct()
    elif state == "pending":
        qs = qs.filter(registration_status="Pending")
    return qs.order_by("identity")


def charger_state(*, charge_point: ChargePoint) -> dict:
    """What the network knows of one charger: connectors, status history, configuration keys,
    its own events. The charger page adds sessions (charging) and messages (csms)."""
    return {
        "connectors": list(charge_point.connectors.order_by("evse_id", "connector_id")),
        "history": list(ConnectorStatusHistory.objects.filter(charge_point=charge_point)[:12]),
        "configuration": list(charge_point.configuration.all()),
        "events": list(charge_point.events.all()[:10]),
    }
