"""Reads for QR start: what a scanned connector shows, sticker data, analytics."""

from django.conf import settings
from django.db.models import Count, Q

from apps.billing.selectors import running_cost
from apps.charging.models import IdToken, MeterValue, Transaction
from apps.qr.models import ConnectorCode, QrEvent
from apps.tariffs import engine
from apps.tariffs.selectors import tariff_estimate, tariff_for_charging
from apps.tenants.selectors import current_organization


def code_url(code: str) -> str:
    """What the QR encodes: the organisation's own domain, so a white-label brand shows."""
    org = current_organization()
    domain = org.primary_domain.domain if org is not None and org.primary_domain else settings.BASE_DOMAIN
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{domain}{port}/c/{code}"


def connector_state(*, code: ConnectorCode, user=None) -> dict:
    cp = code.charge_point
    connector = cp.connectors.filter(evse_id=code.evse_id, connector_id=code.connector_id).first()
    tx = (
        Transaction.objects.filter(charge_point=cp, connector_id=code.connector_id, status=Transaction.Status.ACTIVE)
        .order_by("-started_at")
        .first()
    )
    mine = False
    if tx is not None and user is not None and user.is_authenticated:
        mine = IdToken.objects.filter(owner=user, id_token__iexact=tx.id_tag).exists()
    live = {}
    if tx is not None and mine:
        energy = (
            MeterValue.objects.filter(transaction=tx, measurand="Energy.Active.Import.Register", phase="")
            .order_by("-timestamp")
            .first()
        )
        power = (
            MeterValue.objects.filter(transaction=tx, measurand="Power.Active.Import", phase="")
            .order_by("-timestamp")
            .first()
        )
        scale = lambda mv: 1000 if (mv.unit or "").lower().startswith("k") else 1  # noqa: E731
        if energy is not None and energy.value is not None:
            live["energy_kwh"] = (float(energy.value) * scale(energy) - tx.meter_start) / 1000
        if power is not None and power.value is not None:
            live["power_kw"] = float(power.value) * scale(power) / 1000

        live["cost"] = running_cost(transaction=tx)
    return {
        "charge_point": cp,
        "online": cp.online,
        "status": connector.status if connector else "",
        "error_code": connector.error_code if connector else "",
        "transaction": tx,
        "mine": mine,
        "busy": tx is not None and not mine,
        "live": live,
    }


def qr_analytics() -> dict:
    rows = list(
        ConnectorCode.objects.select_related("charge_point", "charge_point__location")
        .annotate(
            scans=Count("events", filter=Q(events__kind=QrEvent.Kind.SCAN)),
            starts=Count("events", filter=Q(events__kind=QrEvent.Kind.START)),
            refused=Count("events", filter=Q(events__kind=QrEvent.Kind.START_REFUSED)),
        )
        .order_by("-scans", "code")
    )
    by_location: dict = {}
    for row in rows:
        row.conversion = round(100 * row.starts / row.scans) if row.scans else None
        loc = row.charge_point.location.name if row.charge_point.location else "No location"
        agg = by_location.setdefault(loc, {"location": loc, "scans": 0, "starts": 0})
        agg["scans"] += row.scans
        agg["starts"] += row.starts
    for agg in by_location.values():
        agg["conversion"] = round(100 * agg["starts"] / agg["scans"]) if agg["scans"] else None
    total_scans = sum(r.scans for r in rows)
    total_starts = sum(r.starts for r in rows)
    return {
        "connectors": rows,
        "locations": sorted(by_location.values(), key=lambda a: -a["scans"]),
        "scans": total_scans,
        "starts": total_starts,
        "conversion": round(100 * total_starts / total_scans) if total_scans else None,
    }


def connector_price(*, code: ConnectorCode, user=None) -> dict | None:
    """The tariff a driver would pay here now, as lines a person reads, plus a worked example."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    cp = code.charge_point
    # A signed-in member sees the member price.
    tariff = tariff_for_charging(charge_point=cp, evse_id=code.evse_id, user=user, at=timezone.now())
    if tariff is None:
        return None
    labels = {
        "ENERGY": "per kWh",
        "TIME": "per hour charging",
        "PARKING_TIME": "per hour parked",
        "FLAT": "per session",
    }
    lines = []
    for element in tariff.elements.all():
        restricted = hasattr(element, "restrictions")  # OneToOne: absent when the element always applies
        for pc in element.price_components.all():
            vat = (pc.vat or Decimal(0)) / 100
            lines.append(
                {
                    "amount": (pc.price * (1 + vat)).quantize(Decimal("0.01")),
                    "unit": labels.get(pc.type, pc.type),
                    "restricted": restricted,
                }
            )
    time_zone = cp.location.time_zone if cp.location else "UTC"
    start = timezone.now()
    try:
        example = tariff_estimate(
            tariff=tariff,
            start=start,
            end=start + dt.timedelta(hours=1),
            energy_kwh=Decimal(20),
            time_zone=time_zone,
            max_power_kw=Decimal(22),
        )
    except engine.PricingError:
        example = None
    return {"tariff": tariff, "currency": tariff.currency, "lines": lines, "example": example}
