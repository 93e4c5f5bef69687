"""Reads for the network pages: chargers, their state, sessions."""

from django.db.models import Count, F, Prefetch, Q, Sum

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


def session_list(
    *,
    q: str = "",
    status: str = "",
    location: str = "",
    charger: str = "",
    driver: str = "",
    date_from=None,
    date_to=None,
):
    """Sessions, newest first. `date_from`/`date_to` are dates in the current (organisation's) time zone."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    qs = Transaction.objects.select_related("charge_point", "charge_point__location", "id_token", "id_token__owner")
    if q:
        qs = qs.filter(Q(id_tag__icontains=q) | Q(charge_point__identity__icontains=q) | Q(transaction_id__icontains=q))
    if status:
        qs = qs.filter(status=status)
    if location:
        qs = qs.filter(charge_point__location_id=location)
    if charger:
        qs = qs.filter(charge_point__identity=charger)
    if driver:
        qs = qs.filter(Q(id_token__owner__email__icontains=driver) | Q(id_token__owner__full_name__icontains=driver))
    if date_from:
        qs = qs.filter(started_at__gte=timezone.make_aware(datetime.combine(date_from, time.min)))
    if date_to:
        qs = qs.filter(started_at__lt=timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min)))
    return qs.order_by("-started_at")


def session_energy_series(*, transaction: Transaction) -> list[dict]:
    """Energy register readings (Wh) and power (W) over time for the session chart."""
    rows = (
        MeterValue.objects.filter(
            transaction=transaction, phase="", measurand__in=["Energy.Active.Import.Register", "Power.Active.Import"]
        )
        .values("timestamp", "measurand", "value", "unit")
        .order_by("timestamp")
    )
    series: dict = {}
    for row in rows:
        point = series.setdefault(row["timestamp"], {"timestamp": row["timestamp"]})
        value = row["value"]
        if value is None:
            continue
        unit = (row["unit"] or "").lower()
        scale = 1000 if unit.startswith("k") else 1  # kWh / kW → Wh / W
        key = "energy_wh" if row["measurand"].startswith("Energy") else "power_w"
        point[key] = float(value) * scale
    return list(series.values())


def session_totals() -> dict:
    return Transaction.objects.aggregate(
        active=Count("id", filter=Q(status=Transaction.Status.ACTIVE)),
        total=Count("id"),
        energy_wh=Sum(F("meter_stop") - F("meter_start"), filter=Q(meter_stop__isnull=False)),
    )


def session_timeline(*, transaction: Transaction) -> list[dict]:
    """What happened during a session, in order: start and stop, the connector's status
    changes, and commands sent to the charger for this connector or transaction."""
    start = transaction.started_at
    end = transaction.stopped_at
    events = [
        {
            "at": start,
            "kind": "start",
            "text": f"Started with {transaction.id_tag or 'no id'} (meter {transaction.meter_start} Wh)",
        }
    ]
    statuses = ConnectorStatusHistory.objects.filter(
        charge_point_id=transaction.charge_point_id, connector_id=transaction.connector_id, timestamp__gte=start
    )
    if end:
        statuses = statuses.filter(timestamp__lte=end)
    for h in statuses.order_by("timestamp", "id")[:200]:
        text = h.status + (f" — {h.error_code}" if h.error_code and h.error_code != "NoError" else "")
        events.append({"at": h.timestamp, "kind": "status", "text": text})
    commands = Command.objects.filter(charge_point_id=transaction.charge_point_id, created_at__gte=start)
    if end:
        commands = commands.filter(created_at__lte=end)
    for c in commands.select_related("user").order_by("created_at")[:100]:
        payload = c.payload or {}
        if (
            str(payload.get("transactionId", "")) == str(transaction.transaction_id)
            or payload.get("connectorId") == transaction.connector_id
        ):
            who = c.user.email if c.user else c.source
            events.append({"at": c.created_at, "kind": "command", "text": f"{c.action} by {who}: {c.status}"})
    if end:
        events.append(
            {
                "at": end,
                "kind": "stop",
                "text": f"Stopped ({transaction.stop_reason or 'Local'}, meter {transaction.meter_stop} Wh)",
            }
        )
    return sorted(events, key=lambda e: e["at"])


def session_idle_seconds(*, transaction: Transaction, series: list[dict]) -> int | None:
    """Time connected without charging: from the last reading that added energy to the end
    (or now). None when the session reported no energy readings."""
    from django.utils import timezone

    readings = [(p["timestamp"], p["energy_wh"]) for p in series if "energy_wh" in p]
    if not readings:
        return None
    last_increase = readings[0][0]
    for (_, e_prev), (t, e) in zip(readings, readings[1:], strict=False):
        if e > e_prev:
            last_increase = t
    end = transaction.stopped_at or timezone.now()
    return max(int((end - last_increase).total_seconds()), 0)
