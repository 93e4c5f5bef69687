"""OCPP 2.x transactions (TransactionEvent Started / Updated / Ended) on the shared model.

A 2.x station reports a transaction as a stream of events under its own transaction id,
numbered by seqNo, possibly queued while offline and delivered late, out of order or
twice. Every event is kept (TransactionEvent); the Transaction row is then *derived*
from everything received so far, so the order of arrival does not matter:

* started_at: the Started event's time, else the earliest event or meter reading;
* meter_start / meter_stop: Energy.Active.Import.Register readings with the contexts
  Transaction.Begin / Transaction.End, else the first / last reading (Wh);
* the Ended event goes through apps.charging.services.transaction_stop like a 1.6
  StopTransaction, so CDR, billing, wallet and payment follow unchanged; events that
  arrive after it re-derive the figures and correct the CDR if they changed;
* seq_gaps: seqNo values missing between the lowest and highest received.

A retried request (same content: our answer got lost) is answered with the answer we
stored, and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q

from apps.chargers.models import Connector, ProtocolVersion
from apps.charging.events import TransactionAuthorised, TransactionFiguresChanged, TransactionStarted
from apps.charging.hooks import running_cost
from apps.charging.models import (
    V2_START_KEY_PREFIX,
    IdToken,
    MeterValue,
    RemoteStart,
    Reservation,
    Transaction,
    TransactionEvent,
)
from apps.charging.selectors import (
    IdTokenInfo,
    charging_settings,
    id_token_info_for_charging,
    is_master_pass,
    token_has_active_transaction,
)
from apps.charging.services import meter_values_record, transaction_close_superseded, transaction_stop
from apps.core.events import publish
from apps.core.tenancy import queue_after_commit
from apps.csms.commands import send_command

logger = logging.getLogger(__name__)

ENERGY = "Energy.Active.Import.Register"
# Readings taken at the car's side (EV, Inlet) are not what the meter sold.
SOLD_LOCATIONS = ("Outlet", "Body", "Cable", "")
TO_WH = {"Wh": Decimal(1), "kWh": Decimal(1000), "": Decimal(1)}
MAX_GAPS_KEPT = 100


@dataclass
class EventOutcome:
    """What the CSMS answers to a TransactionEvent, as domain values (the 2.x handler turns
    them into a TransactionEventResponse): the verdict on the event's idToken, if it had
    one, and the session's total cost once it has ended (None: not priced)."""

    transaction: Transaction
    info: IdTokenInfo | None = None
    total_cost: Decimal | None = None
    duplicate: bool = False

    def stored(self) -> dict:
        """The outcome as kept on the TransactionEvent, to answer a retry the same way."""
        out: dict = {}
        if self.info is not None:
            out["status"] = self.info.status
            if self.info.expires_at is not None:
                out["expires_at"] = self.info.expires_at.isoformat()
            if self.info.group_id:
                out["group_id"] = self.info.group_id
        if self.total_cost is not None:
            out["total_cost"] = str(self.total_cost)
        return out

    @classmethod
    def from_stored(cls, transaction: Transaction, stored: dict) -> EventOutcome:
        stored = _legacy_answer(stored or {})
        info = None
        if "status" in stored:
            expires = stored.get("expires_at")
            info = IdTokenInfo(
                status=stored["status"],
                expires_at=datetime.fromisoformat(expires.replace("Z", "+00:00")) if expires else None,
                group_id=stored.get("group_id", ""),
            )
        cost = stored.get("total_cost")
        return cls(transaction, info, Decimal(str(cost)) if cost is not None else None, duplicate=True)


def _legacy_answer(stored: dict) -> dict:
    """Events stored before outcomes were kept as domain values held the wire answer."""
    if "idTokenInfo" not in stored and "totalCost" not in stored:
        return stored
    out: dict = {}
    token = stored.get("idTokenInfo")
    if token:
        out["status"] = token.get("status", "")
        if token.get("cacheExpiryDateTime"):
            out["expires_at"] = token["cacheExpiryDateTime"]
        if token.get("groupIdToken"):
            out["group_id"] = token["groupIdToken"].get("idToken", "")
    if stored.get("totalCost") is not None:
        out["total_cost"] = stored["totalCost"]
    return out


# --------------------------------------------------------------------------- verdicts


def authorize_v2(*, id_token: str, type: str, charge_point_id: int) -> IdTokenInfo:
    """The verdict on an IdTokenType from a 2.x station (Authorize, or an idToken in a
    TransactionEvent). 2.x has more precise statuses than 1.6: an unknown card is Unknown
    and a prepaid driver without credit NoCredit. NoAuthorization (a start button, a
    mechanical key: the idToken is empty by definition) has nothing to check; a station
    configured that way charges for free as far as authorisation goes."""
    if type == IdToken.Type.NO_AUTHORIZATION:
        return IdTokenInfo(status="Accepted")
    info = id_token_info_for_charging(id_tag=id_token, charge_point_id=charge_point_id)
    if info.token is None:
        return IdTokenInfo(status="Unknown")
    if info.reason == "wallet":
        return IdTokenInfo(status="NoCredit", expires_at=info.expires_at, group_id=info.group_id, token=info.token)
    return info


def request_digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- the service


@transaction.atomic
def transaction_event_record(
    *,
    charge_point_id: int,
    event_type: str,
    timestamp: datetime,
    trigger_reason: str,
    seq_no: int,
    transaction_info: dict,
    payload: dict,
    offline: bool = False,
    evse: dict | None = None,
    id_token: dict | None = None,
    meter_values: list[dict] | None = None,
    reservation_id: int | None = None,
    number_of_phases_used: int | None = None,
    cable_max_current: int | None = None,
) -> EventOutcome:
    """Record one TransactionEventRequest (snake_case fields, timestamps parsed; meter
    values already as meter_values_record takes them; `payload` the request as the station
    sent it, kept verbatim) and decide the answer."""
    tx_id = transaction_info["transaction_id"]
    digest = request_digest(payload)
    tx, created = _transaction_for(charge_point_id=charge_point_id, transaction_id=tx_id, timestamp=timestamp)
    if not created:
        earlier = TransactionEvent.objects.filter(transaction=tx, digest=digest).first()
        if earlier is not None:
            return EventOutcome.from_stored(tx, earlier.answer)

    evse = evse or {}
    event = TransactionEvent.objects.create(
        transaction=tx,
        charge_point_id=charge_point_id,
        seq_no=seq_no,
        event_type=event_type,
        trigger_reason=trigger_reason,
        timestamp=timestamp,
        offline=offline,
        charging_state=transaction_info.get("charging_state") or "",
        stopped_reason=transaction_info.get("stopped_reason") or "",
        number_of_phases_used=number_of_phases_used,
        cable_max_current=cable_max_current,
        reservation_id=reservation_id,
        remote_start_id=transaction_info.get("remote_start_id"),
        evse_id=evse.get("id"),
        connector_id=evse.get("connector_id"),
        id_token=(id_token or {}).get("id_token", ""),
        id_token_type=(id_token or {}).get("type", ""),
        payload=payload,
        digest=digest,
    )
    was_completed = tx.status == Transaction.Status.COMPLETED
    before = (tx.started_at, tx.meter_start, tx.meter_stop, tx.id_token_id)

    # The first event naming the EVSE (a Started, or any first event of a transaction we did
    # not know: its Started may be lost too) claims it.
    claims_evse = evse.get("id") is not None and (
        created or event_type == TransactionEvent.Type.STARTED or not tx.evse_id
    )
    if claims_evse:
        tx.evse_id = evse["id"]
        tx.connector_id = evse.get("connector_id") or _only_connector(charge_point_id, evse["id"]) or 1
    if meter_values:
        meter_values_record(
            charge_point_id=charge_point_id,
            connector_id=tx.connector_id,
            evse_id=tx.evse_id,
            transaction=tx,
            meter_values=meter_values,
        )
    if offline:
        tx.offline = True
    if _is_latest(event) and transaction_info.get("charging_state"):
        tx.charging_state = transaction_info["charging_state"]
    remote_start_id = transaction_info.get("remote_start_id")
    if remote_start_id is not None:
        tx.remote_start_id = remote_start_id
        RemoteStart.objects.filter(
            charge_point_id=charge_point_id, remote_start_id=remote_start_id, transaction__isnull=True
        ).update(transaction=tx)
    if reservation_id is not None:
        tx.reservation_id = reservation_id
        Reservation.objects.filter(
            charge_point_id=charge_point_id, reservation_id=reservation_id, status=Reservation.Status.ACTIVE
        ).update(status=Reservation.Status.USED, transaction=tx)

    outcome = EventOutcome(tx)
    stop_tag = ""
    if id_token is not None:
        outcome.info, stop_tag = _authorise(tx, event, id_token)

    _derive(tx)
    tx.seq_gaps = _seq_gaps(tx)
    tx.save()
    if claims_evse:
        # One transaction per EVSE: an older one still active there lost its Ended.
        transaction_close_superseded(
            charge_point_id=charge_point_id, evse_id=tx.evse_id, transaction_pk=tx.pk, started_at=timestamp
        )
    if created:
        publish(
            TransactionStarted(
                transaction_pk=tx.pk,
                charge_point_id=charge_point_id,
                evse_id=tx.evse_id,
                connector_id=tx.connector_id,
                id_tag=tx.id_tag,
                auth_status=tx.auth_status,
                started_at=tx.started_at,
            )
        )
    if tx.id_token_id and tx.id_token_id != before[3] and tx.status == Transaction.Status.ACTIVE:
        # 2.x: the driver's token may arrive in a later event; that is when a card can pay.
        publish(TransactionAuthorised(transaction_pk=tx.pk, id_token_pk=tx.id_token_id))

    if event_type == TransactionEvent.Type.ENDED and tx.status == Transaction.Status.ACTIVE:
        ended = _ended_event(tx) or event
        # The same stop as a 1.6 StopTransaction: CDR, billing, wallet and payment follow.
        transaction_stop(
            charge_point_id=charge_point_id,
            transaction_id=tx.transaction_id,
            meter_stop=_meter_stop(tx),
            timestamp=ended.timestamp,
            # 2.0.1: stoppedReason "MAY only be omitted when Reason is Local".
            reason=ended.stopped_reason or "Local",
            id_tag=stop_tag or tx.stop_id_tag,
        )
        tx.refresh_from_db()
    elif was_completed:
        _rederive_completed(tx, before)

    if event_type == TransactionEvent.Type.ENDED:
        # 2.0.1: totalCost only once charging has ended; 0.00 means free, absent not free.
        outcome.total_cost = _total_cost(tx)
    TransactionEvent.objects.filter(pk=event.pk).update(answer=outcome.stored())
    return outcome


def _transaction_for(*, charge_point_id: int, transaction_id: str, timestamp: datetime) -> tuple[Transaction, bool]:
    """The transaction for the station's id, created by whichever event arrives first."""
    qs = Transaction.objects.select_for_update().filter(charge_point_id=charge_point_id, transaction_id=transaction_id)
    tx = qs.first()
    if tx is not None:
        return tx, False
    tx = Transaction(
        charge_point_id=charge_point_id,
        transaction_id=transaction_id,
        evse_id=0,
        connector_id=0,
        meter_start=0,
        started_at=timestamp,
        start_key=f"{V2_START_KEY_PREFIX}{transaction_id}"[:64],
    )
    try:
        with transaction.atomic():
            tx.save()
    except IntegrityError:
        return qs.get(), False
    return tx, True


def _only_connector(charge_point_id: int, evse_id: int) -> int | None:
    """An event naming only the EVSE: its connector, when the EVSE has just one."""
    ids = list(
        Connector.objects.filter(charge_point_id=charge_point_id, evse_id=evse_id, connector_id__gt=0).values_list(
            "connector_id", flat=True
        )[:2]
    )
    return ids[0] if len(ids) == 1 else None


def _is_latest(event: TransactionEvent) -> bool:
    later = TransactionEvent.objects.filter(transaction_id=event.transaction_id).exclude(pk=event.pk)
    return not later.filter(
        Q(timestamp__gt=event.timestamp) | Q(timestamp=event.timestamp, seq_no__gt=event.seq_no)
    ).exists()


def _authorise(tx: Transaction, event: TransactionEvent, id_token: dict) -> tuple[IdTokenInfo, str]:
    """The verdict on an idToken in an event, and the stop id tag when it ends the
    transaction. The first token of a transaction authorises it (also when it comes in an
    Updated event: a transaction started on plug-in and authorised later, or late, in the
    Ended event of an offline transaction); another token presented to stop it
    (StopAuthorized) is a card of the same group (C09), a master pass (C16) or one the
    station accepted for reasons of its own -- the station decides, the CSMS answers the
    card's own status."""
    tag, kind = id_token["id_token"], id_token["type"]
    info = authorize_v2(id_token=tag, type=kind, charge_point_id=tx.charge_point_id)
    ended = event.event_type == TransactionEvent.Type.ENDED
    no_token_yet = not tx.id_tag and tx.id_token_id is None
    if no_token_yet and event.trigger_reason != "StopAuthorized":
        if is_master_pass(token=info.token):
            # C16: a master pass stops transactions; it never starts one.
            info = IdTokenInfo(status="Invalid", group_id=info.group_id, token=info.token)
        elif (
            info.status == "Accepted"
            and info.token is not None
            and not ended
            # E05 / IdTokenInfo ConcurrentTx: the card is in a transaction on another EVSE.
            and token_has_active_transaction(
                token=info.token,
                exclude_charge_point_id=tx.charge_point_id,
                exclude_evse_id=tx.evse_id,
                exclude_pk=tx.pk,
            )
        ):
            info = IdTokenInfo(
                status="ConcurrentTx", expires_at=info.expires_at, group_id=info.group_id, token=info.token
            )
        tx.id_tag = tag
        tx.id_token = info.token
        tx.auth_status = info.status
        return info, tag if ended else ""
    if tag.upper() == (tx.id_tag or "").upper():
        return info, tag if ended else ""
    if ended or event.trigger_reason == "StopAuthorized":
        tx.stop_id_tag = tag
        return info, tag
    return info, ""


def _energy_readings(tx: Transaction, context: str | None = None):
    qs = MeterValue.objects.filter(
        transaction=tx, measurand=ENERGY, phase="", value__isnull=False, location__in=SOLD_LOCATIONS
    )
    if context is not None:
        qs = qs.filter(context=context)
    return qs


def _wh(row: MeterValue | None) -> int | None:
    if row is None:
        return None
    factor = TO_WH.get(row.unit)
    return None if factor is None else int(row.value * factor)


def _meter_start(tx: Transaction) -> int:
    begin = _wh(_energy_readings(tx, "Transaction.Begin").order_by("timestamp", "id").first())
    if begin is not None:
        return begin
    first = _wh(_energy_readings(tx).order_by("timestamp", "id").first())
    return first if first is not None else tx.meter_start


def _meter_stop(tx: Transaction) -> int:
    end = _wh(_energy_readings(tx, "Transaction.End").order_by("-timestamp", "-id").first())
    if end is not None:
        return end
    last = _wh(_energy_readings(tx).order_by("-timestamp", "-id").first())
    return max(last, tx.meter_start) if last is not None else tx.meter_start


def _ended_event(tx: Transaction) -> TransactionEvent | None:
    return tx.events.filter(event_type=TransactionEvent.Type.ENDED).order_by("timestamp", "seq_no").first()


def _derive(tx: Transaction) -> None:
    """started_at and meter_start from everything received so far (arrival order aside)."""
    started = tx.events.filter(event_type=TransactionEvent.Type.STARTED).order_by("timestamp", "seq_no").first()
    if started is not None:
        tx.started_at = started.timestamp
    else:
        first_event = tx.events.aggregate(t=Min("timestamp"))["t"]
        first_reading = MeterValue.objects.filter(transaction=tx).aggregate(t=Min("timestamp"))["t"]
        candidates = [t for t in (first_event, first_reading) if t is not None]
        if candidates:
            tx.started_at = min(candidates)
    tx.meter_start = _meter_start(tx)


def _rederive_completed(tx: Transaction, before: tuple) -> None:
    """An event of a transaction that already ended (delivered late, out of order): the
    derived start and stop may move; a CDR priced on the old figures is corrected."""
    ended = _ended_event(tx)
    if ended is not None:
        tx.stopped_at = ended.timestamp
        if tx.stop_missing:
            # We closed it for want of its end (apps.charging.services.transaction_close_superseded);
            # the station's own Ended, late, says how it really ended.
            tx.stop_missing = False
            tx.stop_reason = ended.stopped_reason or "Local"
    tx.meter_stop = _meter_stop(tx)
    tx.save(update_fields=["stopped_at", "meter_stop", "stop_missing", "stop_reason"])
    if (tx.started_at, tx.meter_start, tx.meter_stop, tx.id_token_id) != before:
        # A CDR priced on the old figures is out of date: billing corrects it, in a task.
        publish(TransactionFiguresChanged(transaction_pk=tx.pk, completed=True))


def _seq_gaps(tx: Transaction) -> list[int]:
    """seqNo values missing between the lowest and highest received. Stations number events
    either per transaction from 0 (what 2.0.1 recommends) or with one counter for all their
    transactions; with one counter, numbers used by the station's other transactions are
    not missing."""
    seqs = set(tx.events.values_list("seq_no", flat=True))
    if not seqs:
        return []
    low, high = min(seqs), max(seqs)
    missing = set(range(low, high + 1)) - seqs
    if missing and low > 0:
        others = TransactionEvent.objects.filter(
            charge_point_id=tx.charge_point_id, seq_no__gte=low, seq_no__lte=high
        ).exclude(transaction=tx)
        missing -= set(others.values_list("seq_no", flat=True))
    return sorted(missing)[:MAX_GAPS_KEPT]


def _total_cost(tx: Transaction) -> Decimal | None:
    """The session's cost so far, incl. VAT, from whatever prices it (billing registers
    itself in apps.charging.hooks); None when nothing does or pricing failed."""
    try:
        return running_cost(transaction=tx)
    except Exception:  # pricing must never turn into an error answer to the station
        logger.exception("running cost of transaction %s failed", tx.pk)
        return None


# --------------------------------------------------------------------------- reads


def transaction_events(*, transaction: Transaction) -> list[TransactionEvent]:
    return list(transaction.events.order_by("seq_no", "timestamp", "id"))


def transaction_last_seq(*, charge_point_id: int) -> int | None:
    return TransactionEvent.objects.filter(charge_point_id=charge_point_id).aggregate(m=Max("seq_no"))["m"]


# --------------------------------------------------------------------------- I: CostUpdated


def cost_updates_send(*, now: datetime | None = None) -> int:
    """Block I02: tell 2.x stations the running cost of their transactions, every
    ChargingSettings.cost_update_minutes per transaction, when a tariff applies. A beat job
    rather than a reaction to each TransactionEvent: the OCPP receive path never waits for
    pricing or for an outbound call. The commands are fire-and-forget (csms.send_command);
    their outcome is in csms.Command. Returns how many were queued."""
    from datetime import timedelta

    from django.utils import timezone

    minutes = charging_settings().cost_update_minutes
    if not minutes:
        return 0
    now = now or timezone.now()
    due = Transaction.objects.filter(
        status=Transaction.Status.ACTIVE,
        start_key__startswith=V2_START_KEY_PREFIX,
        charge_point__online=True,
        charge_point__protocol_version__in=[ProtocolVersion.OCPP201, ProtocolVersion.OCPP21],
    ).filter(Q(cost_updated_at__isnull=True) | Q(cost_updated_at__lte=now - timedelta(minutes=minutes)))
    queued = 0
    for tx in due.select_related("charge_point__location", "id_token__owner"):
        cost = _total_cost(tx)
        if cost is None:
            continue
        # Claim the slot first: two beat runs overlapping must not both send.
        if not Transaction.objects.filter(pk=tx.pk, cost_updated_at=tx.cost_updated_at).update(cost_updated_at=now):
            continue
        payload = {"totalCost": float(cost), "transactionId": tx.transaction_id}
        queue_after_commit(send_command, tx.charge_point_id, "CostUpdated", payload, timeout=15)
        queued += 1
    return queued
