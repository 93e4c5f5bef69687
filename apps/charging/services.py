"""Writes for id tokens, transactions and meter values (shared by every OCPP version)."""

import hashlib
import json
from contextlib import nullcontext
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.charging.events import TransactionAuthorised, TransactionEnded, TransactionFiguresChanged, TransactionStarted
from apps.charging.locallists import local_lists_token_changed
from apps.charging.models import (
    STOP_EVSE_REUSED,
    STOP_NO_ACTIVITY,
    IdToken,
    MeterValue,
    Reservation,
    Transaction,
)
from apps.charging.selectors import (
    IdTokenInfo,
    charging_settings,
    id_token_info,
    id_token_info_for_charging,
    token_has_active_transaction,
    transactions_inactive,
)
from apps.core.db import savepoint_if_nested, update_returning
from apps.core.events import publish

# OCPP 1.6 SampledValue defaults (section 7.45): stored explicitly so readers need not know them.
SAMPLE_DEFAULTS = {
    "measurand": "Energy.Active.Import.Register",
    "unit": "Wh",
    "context": "Sample.Periodic",
    "location": "Outlet",
    "format": "Raw",
    "phase": "",
}


@transaction.atomic
def id_token_create(
    *,
    id_token: str,
    type: str = IdToken.Type.ISO14443,
    status: str = IdToken.Status.ACCEPTED,
    expires_at: datetime | None = None,
    group_id: str = "",
    owner=None,
    label: str = "",
) -> IdToken:
    if IdToken.objects.filter(id_token__iexact=id_token).exists():
        raise ValidationError({"id_token": "This id token already exists."})
    token = IdToken(
        id_token=id_token, type=type, status=status, expires_at=expires_at, group_id=group_id, owner=owner, label=label
    )
    token.full_clean(validate_constraints=False)
    token.save()
    # Chargers carrying this card in their local list get the change pushed after commit.
    local_lists_token_changed(token=token)
    return token


@transaction.atomic
def id_token_update(*, token: IdToken, **fields) -> IdToken:
    allowed = {"type", "status", "expires_at", "group_id", "owner", "label"}
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationError({name: "This field cannot be changed."})
        setattr(token, name, value)
    token.full_clean(validate_constraints=False)
    token.save()
    # Chargers carrying this card in their local list get the change pushed after commit.
    local_lists_token_changed(token=token)
    return token


def _start_key(*, connector_id: int, id_tag: str, meter_start: int, timestamp: datetime) -> str:
    raw = f"{connector_id}|{id_tag.upper()}|{meter_start}|{timestamp.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def transaction_start(
    *,
    charge_point_id: int,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime,
    reservation_id: int | None = None,
    evse_id: int | None = None,
) -> tuple[Transaction, IdTokenInfo]:
    """Record a StartTransaction. The charger has already started charging, so the
    transaction is stored whatever the authorisation says; the answer tells it whether
    to go on. Offline transactions arrive with past timestamps and are ordered by them.

    No database transaction unless a reservation is to be marked used with it: the one
    INSERT is atomic by itself, and BEGIN and COMMIT were two more round trips on the
    central system's database pool for every start."""
    with transaction.atomic() if reservation_id is not None else nullcontext():
        key = _start_key(connector_id=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=timestamp)
        info = id_token_info_for_charging(id_tag=id_tag, charge_point_id=charge_point_id)
        status = info.status
        if (
            status == IdToken.Status.ACCEPTED
            and info.token is not None
            and token_has_active_transaction(
                token=info.token,
                exclude_charge_point_id=charge_point_id,
                exclude_evse_id=connector_id if evse_id is None else evse_id,
            )
        ):
            status = "ConcurrentTx"
        tx = Transaction(
            charge_point_id=charge_point_id,
            evse_id=connector_id if evse_id is None else evse_id,
            connector_id=connector_id,
            id_tag=id_tag,
            id_token=info.token,
            auth_status=status,
            reservation_id=reservation_id,
            meter_start=meter_start,
            started_at=timestamp,
            start_key=key,
        )
        superseded = _transaction_insert_unless_retried(tx)
        if superseded is None:
            # The same start again (our answer got lost), or the same start racing itself on two
            # connections: the same transactionId and verdict as the first time.
            existing = Transaction.objects.get(charge_point_id=charge_point_id, start_key=key)
            return existing, _info_for(existing)
        if reservation_id is not None:
            Reservation.objects.filter(
                charge_point_id=charge_point_id, reservation_id=reservation_id, status=Reservation.Status.ACTIVE
            ).update(status=Reservation.Status.USED, transaction=tx)
        if superseded:
            transaction_close_superseded(
                charge_point_id=charge_point_id, evse_id=tx.evse_id, transaction_pk=tx.pk, started_at=timestamp
            )
        publish(
            TransactionStarted(
                transaction_pk=tx.pk,
                charge_point_id=charge_point_id,
                evse_id=tx.evse_id,
                connector_id=connector_id,
                id_tag=id_tag,
                auth_status=status,
                started_at=timestamp,
            ),
            *(
                [TransactionAuthorised(transaction_pk=tx.pk, id_token_pk=tx.id_token_id)]
                if status == IdToken.Status.ACCEPTED
                else []
            ),
        )
        return tx, IdTokenInfo(status=status, expires_at=info.expires_at, group_id=info.group_id, token=info.token)


def _transaction_insert_unless_retried(tx: Transaction) -> bool | None:
    """INSERT a new 1.6 transaction, its transactionId being its primary key (1.6 ids are
    ours, unique within the organisation's schema), unless its start_key is already stored.
    Sets tx.pk and tx.transaction_id when stored; returns None when it was not (a retry),
    else whether an older transaction is still active on the same EVSE.

    One statement: save() in a savepoint (for the IntegrityError of a retry) followed by an
    UPDATE for the id took five, and StartTransaction was the costliest call on the central
    system's database pool. The columns and values come from the model's fields as Django's
    own INSERT prepares them, so a field added to Transaction is written here too."""
    qn = connection.ops.quote_name
    meta = Transaction._meta
    fields = [f for f in meta.concrete_fields if f.name not in ("id", "transaction_id")]
    values = [f.get_db_prep_save(f.pre_save(tx, True), connection) for f in fields]
    cols = ", ".join(qn(f.column) for f in fields)
    table = qn(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, transaction_id, {cols}) "
            f"SELECT n.id, n.id::text, {', '.join(['%s'] * len(values))} "
            f"FROM (SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id) n "
            f"ON CONFLICT (charge_point_id, start_key) DO NOTHING RETURNING id, "
            # Whether an older transaction is still active on this EVSE (its end was lost):
            # asked in the same statement, so the close below costs a round trip only when there
            # is one. A subquery in RETURNING reads the statement's snapshot: not the new row.
            f"EXISTS (SELECT 1 FROM {table} o WHERE o.charge_point_id = %s AND o.evse_id = %s "
            "AND o.status = %s AND o.started_at <= %s)",
            [*values, meta.db_table, tx.charge_point_id, tx.evse_id, Transaction.Status.ACTIVE, tx.started_at],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    tx.pk = row[0]
    tx.transaction_id = str(row[0])
    tx._state.adding = False
    tx._state.db = connection.alias
    return bool(row[1])


def _info_for(tx: Transaction) -> IdTokenInfo:
    token = tx.id_token
    return IdTokenInfo(
        status=tx.auth_status or "Invalid",
        expires_at=token.expires_at if token else None,
        group_id=token.group_id if token else "",
        token=token,
    )


def transaction_stop(
    *,
    charge_point_id: int,
    transaction_id: str,
    meter_stop: int,
    timestamp: datetime,
    reason: str = "",
    id_tag: str = "",
    transaction_data: list[dict] | None = None,
) -> tuple[int | None, IdTokenInfo | None]:
    """Record a StopTransaction; a retried one changes nothing. An unknown transaction id
    is answered (the charger must be able to empty its queue) but not stored. Returns the
    key of the transaction this call completed (None for an unknown id or a retry).

    A database transaction only when the stop carries transactionData: the UPDATE alone is
    atomic, and BEGIN and COMMIT were two more round trips for every stop."""
    with transaction.atomic() if transaction_data else nullcontext():
        info = id_token_info(id_tag=id_tag) if id_tag else None
        completed = _transaction_complete(
            charge_point_id=charge_point_id,
            transaction_id=transaction_id,
            meter_stop=meter_stop,
            stopped_at=timestamp,
            # OCPP 1.6: an absent reason means "Local".
            stop_reason=reason or "Local",
            stop_id_tag=id_tag,
        )
        if completed is None:
            return None, info
        tx_pk, connector_id, was_closed = completed
        if transaction_data:
            meter_values_record(
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                transaction_pk=tx_pk,
                meter_values=transaction_data,
            )
        if was_closed:
            # The real stop of a transaction we closed for want of it (transaction_close_superseded,
            # the sweep): its figures replace ours, and billing corrects the CDR it already made.
            publish(TransactionFiguresChanged(transaction_pk=tx_pk, completed=True))
            return tx_pk, info
        # Billing prices it (CDR, receipt) after commit, off the OCPP hot path; a billing
        # failure never turns into an error answer to the charger.
        publish(
            TransactionEnded(
                transaction_pk=tx_pk, charge_point_id=charge_point_id, stopped_at=timestamp, reason=reason or "Local"
            )
        )
        return tx_pk, info


def _transaction_complete(*, charge_point_id: int, transaction_id: str, **values) -> tuple[int, int, bool] | None:
    """Complete the charger's transaction unless it is unknown or already completed (other
    than by us for want of its stop: stop_missing), in an UPDATE ... RETURNING (the row stays
    locked until commit, as select_for_update did): the (pk, connector_id, whether we had
    closed it) it completed, or None. A SELECT FOR UPDATE, a model instance and a save() cost
    three times as much on every StopTransaction.

    The usual stop is one statement; only a stop that finds nothing active (unknown, repeated,
    or late for a session we closed) asks a second time, for a session we closed."""
    values["status"] = Transaction.Status.COMPLETED
    values["stop_missing"] = False
    where = "charge_point_id = %s AND transaction_id = %s AND "
    row = update_returning(
        Transaction,
        values,
        where=where + "status <> %s",
        params=[charge_point_id, transaction_id, Transaction.Status.COMPLETED],
        returning="id, connector_id",
    )
    if row is not None:
        return row[0], row[1], False
    row = update_returning(
        Transaction,
        values,
        where=where + "status = %s AND stop_missing",
        params=[charge_point_id, transaction_id, Transaction.Status.COMPLETED],
        returning="id, connector_id",
    )
    return None if row is None else (row[0], row[1], True)


# --------------------------------------------------------------------------- ends never reported


def transaction_close_superseded(
    *, charge_point_id: int, evse_id: int, transaction_pk: int, started_at: datetime
) -> list[int]:
    """An EVSE holds one transaction (OCPP 2.0.1 E02/E06; 1.6 5.17: one per connector): a
    transaction starting on it means any older one still active there has ended, its
    StopTransaction / Ended lost (power cut, offline queue overflow). Close those as
    STOP_EVSE_REUSED, priced from their last reading, stopped at their last reading's time
    (else at this start). Called by both protocols' start paths (1.6 StartTransaction, the
    first 2.x event naming the EVSE); one statement, as it runs on every start.

    Only transactions that started before `started_at`: an offline start delivered late,
    older than the running one, leaves it alone (its own stop follows in the queue)."""
    return _transactions_close_unreported(
        where="t.charge_point_id = %s AND t.evse_id = %s AND t.id <> %s AND t.started_at <= %s",
        params=[charge_point_id, evse_id, transaction_pk, started_at],
        reason=STOP_EVSE_REUSED,
        fallback_at=started_at,
        not_after=started_at,
    )


def transactions_close_inactive(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat sweep: close active transactions that have had no message for
    ChargingSettings.unreported_end_hours (their end was lost and no new start came on
    their EVSE), as STOP_NO_ACTIVITY, priced from their last reading, stopped at their last
    reading (else their last activity). What counts as activity: apps.charging.selectors.
    transactions_inactive. Returns how many were closed (at most `limit` a run; the next
    run takes the rest)."""
    hours = charging_settings().unreported_end_hours
    if not hours:
        return 0
    now = now or timezone.now()
    closed = 0
    for pk, last_activity in transactions_inactive(before=now - timedelta(hours=hours), limit=limit):
        closed += len(
            _transactions_close_unreported(
                where="t.id = %s", params=[pk], reason=STOP_NO_ACTIVITY, fallback_at=last_activity
            )
        )
    return closed


def _transactions_close_unreported(
    *, where: str, params: list, reason: str, fallback_at: datetime, not_after: datetime | None = None
) -> list[int]:
    """Complete the active transactions matching `where` (SQL over the table as `t`) as the
    station never did, in one UPDATE: meter_stop the last sold energy register reading
    (as apps.charging.transaction_events._meter_stop: Wh, never below meter_start),
    stopped_at the last reading's time or `fallback_at`, never after `not_after` nor before
    the start. TransactionEnded for each, so billing creates the CDR as after a real stop."""
    qn = connection.ops.quote_name
    tx_table, mv_table = qn(Transaction._meta.db_table), qn(MeterValue._meta.db_table)
    last_energy = (
        f"SELECT trunc(CASE WHEN m.unit = 'kWh' THEN m.value * 1000 ELSE m.value END)::bigint FROM {mv_table} m "
        "WHERE m.transaction_id = t.id AND m.measurand = 'Energy.Active.Import.Register' AND m.phase = '' "
        "AND m.value IS NOT NULL AND m.location IN ('Outlet', 'Body', 'Cable', '') AND m.unit IN ('Wh', 'kWh', '') "
        "ORDER BY m.timestamp DESC, m.id DESC LIMIT 1"
    )
    last_reading_at = f"SELECT MAX(m.timestamp) FROM {mv_table} m WHERE m.transaction_id = t.id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {tx_table} t SET status = %s, stop_reason = %s, stop_missing = TRUE, "
            f"meter_stop = GREATEST(t.meter_start, COALESCE(({last_energy}), t.meter_start)), "
            # LEAST ignores a NULL not_after.
            f"stopped_at = GREATEST(t.started_at, LEAST(COALESCE(({last_reading_at}), %s), %s::timestamptz)) "
            f"WHERE t.status = %s AND {where} RETURNING t.id, t.charge_point_id, t.stopped_at",
            [Transaction.Status.COMPLETED, reason, fallback_at, not_after, Transaction.Status.ACTIVE, *params],
        )
        rows = cursor.fetchall()
    publish(
        *(
            TransactionEnded(transaction_pk=pk, charge_point_id=cp_id, stopped_at=stopped_at, reason=reason)
            for pk, cp_id, stopped_at in rows
        )
    )
    return [pk for pk, _, _ in rows]


def _parse_value(raw: str, fmt: str) -> tuple[Decimal | None, str]:
    if fmt == "SignedData":
        return None, raw
    try:
        value = Decimal(raw)
    except (InvalidOperation, TypeError):
        return None, raw
    if not value.is_finite() or abs(value) >= Decimal(10) ** 18:
        return None, raw
    return value.quantize(Decimal("0.000001")), ""


def meter_values_record(
    *,
    charge_point_id: int,
    connector_id: int,
    meter_values: list[dict],
    transaction: Transaction | None = None,
    transaction_id: str | None = None,
    evse_id: int | None = None,
    transaction_pk: int | None = None,
) -> int:
    """Store sampled values (snake_case dicts as the handlers get them, timestamps parsed;
    OCPP 2.x values come through apps.csms.handlers.v2.wire.sampled_values_v2).
    The transaction is `transaction`, or `transaction_pk`, or the charger's
    `transaction_id` (looked up in the same statement; values of an id we do not know are
    stored without one). Duplicates of values already stored (a retried request) are
    skipped."""
    (count,) = meter_values_record_many(
        items=[
            {
                "charge_point_id": charge_point_id,
                "connector_id": connector_id,
                "meter_values": meter_values,
                "transaction_pk": transaction.pk if transaction is not None else transaction_pk,
                "transaction_id": transaction_id,
                "evse_id": evse_id,
            }
        ]
    )
    return count


def meter_values_record_many(*, items: list[dict]) -> list[int]:
    """meter_values_record for several MeterValues requests (of any chargers of this
    schema) in one statement. Each item takes meter_values_record's keyword arguments
    except `transaction`; the result is meter_values_record's for each item, in order.

    All or nothing (one statement; a savepoint when nested): a caller whose batch failed can
    retry its items one at a time (apps.csms.batching does) without having stored half of
    them, and without an aborted outer transaction in between."""
    counts, rows = [], []
    for item in items:
        tx_pk = item.get("transaction_pk")
        item_rows = _meter_value_tuples(
            charge_point_id=item["charge_point_id"],
            connector_id=item["connector_id"],
            meter_values=item["meter_values"],
            transaction_pk=tx_pk,
            transaction_ref=item.get("transaction_id") if tx_pk is None else None,
            evse_id=item.get("evse_id"),
        )
        counts.append(len(item_rows))
        rows.extend(item_rows)
    _meter_values_insert(rows)
    return counts


# The columns of _meter_value_tuples' rows: MeterValue's own, except `transaction_ref` (the
# charger's transaction id, resolved to the Transaction's key by the INSERT), with the array
# type each is sent as.
_MV_COLUMNS = (
    ("charge_point_id", "bigint"),
    ("transaction_id", "bigint"),
    ("transaction_ref", "text"),
    ("connector_id", "integer"),
    ("evse_id", "integer"),
    ("timestamp", "timestamptz"),
    ("measurand", "text"),
    ("phase", "text"),
    ("unit", "text"),
    ("context", "text"),
    ("location", "text"),
    ("value", "numeric"),
    ("raw_value", "text"),
    ("format", "text"),
    ("signed", "jsonb"),
)


def _meter_value_tuples(
    *,
    charge_point_id: int,
    connector_id: int,
    meter_values: list[dict],
    transaction_pk: int | None,
    transaction_ref: str | None,
    evse_id,
) -> list[tuple]:
    """MeterValue rows as plain tuples (no model instances: under load a model's __init__
    and bulk_create's per-field preparation were most of a batch's time)."""
    rows = []
    # 1.6: every connector is its own EVSE.
    evse = connector_id if evse_id is None else evse_id
    for mv in meter_values:
        for sv in mv["sampled_value"]:
            fields = {k: sv.get(k) or default for k, default in SAMPLE_DEFAULTS.items()}
            value, raw = _parse_value(sv["value"], fields["format"])
            signed = sv.get("signed")
            rows.append(
                (
                    charge_point_id,
                    # The key only: loading the Transaction row was ~17% of the server's GIL
                    # time under a MeterValues load, for a value nobody reads here.
                    transaction_pk,
                    transaction_ref,
                    connector_id,
                    evse,
                    mv["timestamp"],
                    fields["measurand"],
                    fields["phase"],
                    fields["unit"],
                    fields["context"],
                    fields["location"],
                    value,
                    raw,
                    fields["format"],
                    None if signed is None else json.dumps(signed, separators=(",", ":")),
                )
            )
    return rows


def _meter_values_insert(rows: list[tuple]) -> None:
    """Insert rows in one statement, skipping those the unique constraint already holds
    (retried requests, the same sample twice in a batch), as bulk_create(ignore_conflicts=
    True) did: INSERT ... SELECT over one array per column (psycopg sends lists as arrays
    in C), joined to the transactions to turn the chargers' transaction ids into keys.

    One round trip, where a lookup of the transaction ids, a COPY into a staging table, the
    INSERT from it and emptying it took six with BEGIN and COMMIT: under load each round
    trip of the database pool waits for the GIL, and a MeterValues batch spent 40 ms there
    for 3 ms of work."""
    if not rows:
        return
    qn = connection.ops.quote_name
    mv_table = qn(MeterValue._meta.db_table)
    tx_table = qn(Transaction._meta.db_table)
    names = [name for name, _ in _MV_COLUMNS]
    stored = [name for name in names if name != "transaction_ref"]
    columns = list(zip(*rows, strict=True))
    select = ", ".join("COALESCE(v.transaction_id, t.id)" if n == "transaction_id" else f"v.{qn(n)}" for n in stored)
    sql = (
        f"INSERT INTO {mv_table} ({', '.join(qn(n) for n in stored)}) "
        f"SELECT {select} FROM unnest({', '.join(f'%s::{t}[]' for _, t in _MV_COLUMNS)}) WITH ORDINALITY "
        f"AS v({', '.join(qn(n) for n in names)}, ord) "
        f"LEFT JOIN {tx_table} t ON v.transaction_id IS NULL AND v.transaction_ref IS NOT NULL "
        "AND t.charge_point_id = v.charge_point_id AND t.transaction_id = v.transaction_ref "
        # In request order, so that of one sample sent twice the first is kept, as alone.
        "ORDER BY v.ord ON CONFLICT DO NOTHING RETURNING transaction_id"
    )
    # A refused batch (a value too long for its column) must leave a caller's transaction
    # usable for a retry of the items one by one.
    with savepoint_if_nested(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH ins AS ({sql}) SELECT DISTINCT transaction_id FROM ins WHERE transaction_id IS NOT NULL",
            [list(c) for c in columns],
        )
        changed = [pk for (pk,) in cursor.fetchall()]
    # One publish per batch: the transactions whose figures the stored values changed.
    publish(*(TransactionFiguresChanged(transaction_pk=pk) for pk in changed))


@transaction.atomic
def reservation_record(
    *,
    charge_point_id: int,
    reservation_id: int,
    connector_id: int,
    id_tag: str,
    expires_at: datetime,
    charger_status: str,
    parent_id_tag: str = "",
    evse_id: int | None = None,
    connector_type: str = "",
    id_token_type: str = "",
) -> Reservation:
    """Store a ReserveNow and the charger's answer. The same reservationId again replaces
    the reservation (OCPP 1.6 section 5.13, 2.0.1 H01). 2.x reserves an EVSE (evse_id) or
    any EVSE with a connector type; connector_id is then 0."""
    reservation, _ = Reservation.objects.update_or_create(
        charge_point_id=charge_point_id,
        reservation_id=reservation_id,
        defaults={
            "connector_id": connector_id,
            "evse_id": evse_id,
            "connector_type": connector_type,
            "id_tag": id_tag,
            "id_token_type": id_token_type,
            "parent_id_tag": parent_id_tag,
            "expires_at": expires_at,
            "charger_status": charger_status,
            "transaction": None,
            "status": Reservation.Status.ACTIVE if charger_status == "Accepted" else Reservation.Status.REFUSED,
        },
    )
    return reservation


def reservation_cancel(*, charge_point_id: int, reservation_id: int) -> bool:
    return bool(
        Reservation.objects.filter(
            charge_point_id=charge_point_id, reservation_id=reservation_id, status=Reservation.Status.ACTIVE
        ).update(status=Reservation.Status.CANCELLED)
    )


# OCPP 2.x ReservationStatusUpdate: what the station did with a reservation on its own.
_RESERVATION_UPDATES = {
    "Expired": Reservation.Status.EXPIRED,
    "Removed": Reservation.Status.REMOVED,
    # 2.1: the reservation was claimed but no transaction followed; it is gone either way.
    "NoTransaction": Reservation.Status.REMOVED,
}


def reservation_status_update(*, charge_point_id: int, reservation_id: int, update_status: str) -> bool:
    """Record an Expired / Removed reservation. Only an active one changes: a reservation
    already used by a transaction stays Used."""
    status = _RESERVATION_UPDATES.get(update_status)
    if status is None:
        return False
    return bool(
        Reservation.objects.filter(
            charge_point_id=charge_point_id, reservation_id=reservation_id, status=Reservation.Status.ACTIVE
        ).update(status=status, charger_status=update_status[:16])
    )
