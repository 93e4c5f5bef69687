"""Reads about the network: chargers with their live state, a charger's detail and message log."""

from django.db.models import Count, Prefetch, Q

from apps.chargers.models import ChargePoint, Connector, ConnectorStatusHistory
from apps.charging.models import MeterValue, Transaction
from apps.csms.models import Command, MessageLog

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
        Prefetch(
            "transactions",
            queryset=Transaction.objects.filter(status=Transaction.Status.ACTIVE),
            to_attr="active_transactions",
        ),
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


def live_power(*, charge_point: ChargePoint) -> dict[int, dict]:
    """Per EVSE with a session running (in 1.6 each connector is its own EVSE): the latest
    power (kW) and energy so far (kWh)."""
    result = {}
    active = Transaction.objects.filter(charge_point=charge_point, status=Transaction.Status.ACTIVE)
    for tx in active:
        latest = {}
        for measurand in ("Power.Active.Import", "Energy.Active.Import.Register"):
            mv = (
                MeterValue.objects.filter(transaction=tx, measurand=measurand, phase="", value__isnull=False)
                .order_by("-timestamp")
                .first()
            )
            if mv is not None:
                scale = 1000 if (mv.unit or "").lower().startswith("k") else 1
                latest[measurand] = float(mv.value) * scale
        result[tx.evse_id] = {
            "power_kw": latest.get("Power.Active.Import", 0) / 1000,
            "energy_kwh": max(latest.get("Energy.Active.Import.Register", tx.meter_start) - tx.meter_start, 0) / 1000,
        }
    return result


def charger_detail(*, charge_point: ChargePoint) -> dict:
    return {
        "live_power": live_power(charge_point=charge_point),
        "connectors": list(charge_point.connectors.order_by("evse_id", "connector_id")),
        "history": list(ConnectorStatusHistory.objects.filter(charge_point=charge_point)[:12]),
        "configuration": list(charge_point.configuration.all()),
        "commands": list(Command.objects.filter(charge_point=charge_point).select_related("user")[:10]),
        "log_messages": message_search(charge_point=charge_point)[:15],
        "transactions": list(Transaction.objects.filter(charge_point=charge_point).order_by("-started_at")[:10]),
        "events": list(charge_point.events.all()[:10]),
    }


def message_search(*, charge_point: ChargePoint, q: str = "", action: str = ""):
    qs = MessageLog.objects.filter(charge_point_id=charge_point.pk)
    if action:
        qs = qs.filter(action__iexact=action)
    if q:
        qs = qs.filter(
            Q(unique_id__icontains=q) | Q(raw__icontains=q) | Q(error_code__icontains=q) | Q(action__icontains=q)
        )
    return qs.order_by("-timestamp", "-id")
