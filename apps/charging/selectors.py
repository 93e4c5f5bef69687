"""Reads for id tokens and transactions."""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, Subquery, Sum, When
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.chargers.models import ChargePoint, Connector, ConnectorStatusHistory
from apps.charging.hooks import authorization_checks
from apps.charging.models import ChargingSettings, IdToken, MeterValue, Transaction, TransactionEvent
from apps.csms.models import Command


@dataclass(frozen=True)
class IdTokenInfo:
    """Protocol-neutral authorisation answer; handlers shape it for 1.6 (idTagInfo) or 2.x (idTokenInfo)."""

    status: str
    expires_at: datetime | None = None
    group_id: str = ""
    token: IdToken | None = None
    # Why a known card is refused when its status alone does not say ("wallet": the prepaid
    # balance or wallet rules; 2.x answers that NoCredit). Empty otherwise.
    reason: str = ""


@functools.cache
def _id_token_sql() -> tuple[str, list[str]]:
    qn = connection.ops.quote_name
    fields = IdToken._meta.concrete_fields
    columns = ", ".join(qn(f.column) for f in fields)
    column = qn(IdToken._meta.get_field("id_token").column)
    # The expression of the unique index on UPPER(id_token), so that index answers.
    sql = f"SELECT {columns} FROM {qn(IdToken._meta.db_table)} WHERE UPPER({column}::text) = UPPER(%s) LIMIT 1"
    return sql, [f.attname for f in fields]


def id_token_find(*, id_tag: str) -> IdToken | None:
    """The card with this idTag, compared case-insensitively (a CiString on the wire).

    Plain SQL: Authorize, StartTransaction and StopTransaction each look a card up, and
    compiling the same queryset every time was half of that lookup's cost (7% of the
    central system's CPU under load, measured with `benchmarks.run --py-spy`)."""
    sql, attnames = _id_token_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [id_tag])
        row = cursor.fetchone()
    return None if row is None else IdToken.from_db(connection.alias, attnames, row)


def id_token_info(*, id_tag: str, now: datetime | None = None) -> IdTokenInfo:
    token = id_token_find(id_tag=id_tag)
    if token is None:
        return IdTokenInfo(status="Invalid")
    now = now or timezone.now()
    status = token.status
    if status == IdToken.Status.ACCEPTED and token.expires_at is not None and token.expires_at <= now:
        status = IdToken.Status.EXPIRED
    return IdTokenInfo(status=status, expires_at=token.expires_at, group_id=token.group_id, token=token)


def id_token_info_for_charging(*, id_tag: str, charge_point_id: int) -> IdTokenInfo:
    """id_token_info plus the checks other apps registered (apps.charging.hooks): a prepaid
    driver whose wallet balance (or group limit, hours, location) does not allow a session
    is answered Blocked by the wallets' check, and so on. The first veto wins."""
    info = id_token_info(id_tag=id_tag)
    if info.status != IdToken.Status.ACCEPTED:
        return info
    # Most fleet and roaming cards have no driver behind them: checks that need one are
    # skipped without a lookup (this is the Authorize/StartTransaction hot path).
    checks = authorization_checks(has_owner=info.token is None or info.token.owner_id is not None)
    if not checks:
        return info

    location_id = ChargePoint.objects.filter(pk=charge_point_id).values_list("location_id", flat=True).first()
    for entry in checks:
        veto = entry.check(id_tag=id_tag, token=info.token, charge_point_id=charge_point_id, location_id=location_id)
        if veto is not None:
            return IdTokenInfo(
                status=veto.status,
                expires_at=info.expires_at,
                group_id=info.group_id,
                token=info.token,
                reason=veto.reason,
            )
    return info


def token_has_active_transaction(
    *,
    token: IdToken,
    exclude_charge_point_id: int | None = None,
    exclude_evse_id: int | None = None,
    exclude_pk: int | None = None,
) -> bool:
    """Is the token charging on another EVSE (ConcurrentTx)? The EVSE a transaction starts
    on is excluded: an older transaction there is over whatever the station last said (its
    end was lost; apps.charging.services.transaction_close_superseded closes it). An
    EXISTS, not a row: StartTransaction asks this on every start, and loading a Transaction
    was a third of the check's cost."""
    qs = Transaction.objects.filter(id_token=token, status=Transaction.Status.ACTIVE)
    if exclude_charge_point_id is not None:
        qs = qs.exclude(charge_point_id=exclude_charge_point_id, evse_id=exclude_evse_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


# A connector in one of these states is still in use: a charger that reports it so, and is
# online, keeps the transaction on it alive even without meter values.
# (Not Finishing: the transaction has stopped then, only the cable is still plugged in.)
CONNECTOR_IN_USE = ("Charging", "SuspendedEV", "SuspendedEVSE", "Occupied")


def transactions_inactive(*, before: datetime, limit: int = 500) -> list[tuple[int, datetime]]:
    """Active transactions with no sign of life since `before`, oldest activity first, as
    (pk, last activity). Activity is the latest of: the start, a meter value of the
    transaction, a TransactionEvent (2.x), a StatusNotification of its connector since the
    start, and -- while the charger is online and still reports that connector in use --
    the charger's last message (1.6 chargers configured to send no meter values say
    nothing else during a session but their heartbeats)."""

    def latest(qs):
        return Subquery(qs.order_by("-timestamp").values("timestamp")[:1])

    in_use = Connector.objects.filter(
        charge_point=OuterRef("charge_point"),
        evse_id=OuterRef("evse_id"),
        connector_id=OuterRef("connector_id"),
        status__in=CONNECTOR_IN_USE,
    )
    qs = (
        Transaction.objects.filter(status=Transaction.Status.ACTIVE, started_at__lt=before)
        .annotate(
            last_reading=latest(MeterValue.objects.filter(transaction=OuterRef("pk"))),
            last_event=latest(TransactionEvent.objects.filter(transaction=OuterRef("pk"))),
            last_status=latest(
                ConnectorStatusHistory.objects.filter(
                    charge_point=OuterRef("charge_point"),
                    evse_id=OuterRef("evse_id"),
                    connector_id=OuterRef("connector_id"),
                    timestamp__gte=OuterRef("started_at"),
                )
            ),
            charger_seen=Case(
                When(Q(charge_point__online=True) & Exists(in_use), then=F("charge_point__last_seen")),
                default=None,
            ),
        )
        # PostgreSQL's GREATEST ignores NULLs.
        .annotate(last_activity=Greatest("started_at", "last_reading", "last_event", "last_status", "charger_seen"))
        .filter(last_activity__lt=before)
        .order_by("last_activity", "pk")
    )
    return list(qs.values_list("pk", "last_activity")[:limit])


def transaction_get(*, charge_point_id: int, transaction_id: str) -> Transaction | None:
    return Transaction.objects.filter(charge_point_id=charge_point_id, transaction_id=transaction_id).first()


def charging_settings() -> ChargingSettings:
    """The organisation's charging settings (created with defaults on first use)."""
    settings = ChargingSettings.objects.order_by("pk").first()
    if settings is None:
        settings, _ = ChargingSettings.objects.get_or_create(pk=1)
    return settings


def is_master_pass(*, token: IdToken | None) -> bool:
    """OCPP 2.0.1 C16: a card is a master pass when its group id is the organisation's
    MasterPassGroupId (compared like idTokens: case-insensitively)."""
    if token is None or not token.group_id:
        return False
    group = charging_settings().master_pass_group_id.strip()
    return bool(group) and token.group_id.strip().upper() == group.upper()


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


def active_transactions_prefetch() -> Prefetch:
    """For a list of chargers: each one's running sessions as `active_transactions`."""
    return Prefetch(
        "transactions",
        queryset=Transaction.objects.filter(status=Transaction.Status.ACTIVE),
        to_attr="active_transactions",
    )


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


def recent_transactions(*, charge_point: ChargePoint, limit: int = 10) -> list[Transaction]:
    return list(Transaction.objects.filter(charge_point=charge_point).order_by("-started_at")[:limit])
