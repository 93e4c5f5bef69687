"""Charge detail records: create one when a session ends, correct by adding a new record."""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from apps.billing import pricing
from apps.billing.events import CdrCreated
from apps.billing.models import ChargeDetailRecord
from apps.billing.selectors import (
    billing_settings,
    cdr_latest,
    cdr_original,
    current_organization,
    free_session_reason,
    invoice_credited_amount,
    transactions_without_cdr,
)
from apps.billing.services.invoices import credit_note_issue, invoice_issue_for_cdr
from apps.charging.models import IdToken, Transaction
from apps.core.events import publish
from apps.core.money import quantize
from apps.fx.selectors import RateUnavailable, exchange_rate
from apps.tariffs import engine
from apps.tariffs.domain import Tariff as DomainTariff
from apps.tariffs.models import Tariff
from apps.tariffs.ocpi import format_datetime, number, tariff_structure, tariff_to_domain
from apps.tariffs.selectors import tariff_for_charging, tariff_list

# OCPP id token types -> OCPI TokenType. 1.6 idTags are stored as ISO14443 (RFID cards).
TOKEN_TYPES = {
    IdToken.Type.ISO14443: ChargeDetailRecord.TokenType.RFID,
    IdToken.Type.ISO15693: ChargeDetailRecord.TokenType.RFID,
    IdToken.Type.CENTRAL: ChargeDetailRecord.TokenType.APP_USER,
}
_EFFECTIVE = object()  # "the tariff in effect at the session start"

logger = logging.getLogger(__name__)

# The missing-CDR sweep looks back this far: far enough to outlast a broker outage, short
# enough that a driver never gets a surprise receipt for a session of last month (those are
# for an operator to price deliberately, with `manage.py create_missing_cdrs`).
MISSING_CDR_WINDOW = dt.timedelta(hours=24)
# ...and leaves alone what stopped less than this ago: its own billing.create_cdr task is
# probably still queued or retrying (its 5 retries with backoff take about half a minute at
# most). Taking it over would not bill twice (creation is idempotent and locks the transaction
# row), but it would contend with the regular path and count the task's work as its own.
MISSING_CDR_GRACE = dt.timedelta(minutes=5)


def _token_fields(tx: Transaction) -> dict:
    token = tx.id_token
    ocpp_type = token.type if token else ""
    if token is not None:
        token_type = TOKEN_TYPES.get(ocpp_type, ChargeDetailRecord.TokenType.OTHER)
    else:
        token_type = ChargeDetailRecord.TokenType.RFID if tx.id_tag else ChargeDetailRecord.TokenType.AD_HOC_USER
    if ocpp_type == IdToken.Type.CENTRAL:  # started by the app / QR page via RemoteStart
        auth = ChargeDetailRecord.AuthMethod.COMMAND
    elif not tx.id_tag or ocpp_type == IdToken.Type.NO_AUTHORIZATION:
        auth = ChargeDetailRecord.AuthMethod.WHITELIST
    else:
        auth = ChargeDetailRecord.AuthMethod.AUTH_REQUEST
    uid = token.id_token if token else tx.id_tag
    return {
        "token_uid": uid,
        "token_type": token_type,
        "token_contract_id": uid,
        "ocpp_token_type": ocpp_type,
        "auth_method": auth,
        "driver": token.owner if token else None,
    }


def _location_fields(tx: Transaction) -> dict:
    cp = tx.charge_point
    loc = cp.location
    evse_uid = f"{cp.identity}/{tx.evse_id}"
    snapshot = {
        "id": str(loc.pk) if loc else "",
        "name": loc.name if loc else cp.name or cp.identity,
        "address": loc.address if loc else "",
        "city": loc.city if loc else "",
        "postal_code": loc.postal_code if loc else "",
        # OCPI wants ISO 3166 alpha-3 here; EVzone stores alpha-2 (converted by the OCPI module).
        "country": loc.country if loc else "",
        "coordinates": (
            {"latitude": str(loc.latitude), "longitude": str(loc.longitude)}
            if loc and loc.latitude is not None and loc.longitude is not None
            else None
        ),
        "evse_uid": evse_uid,
        "evse_id": evse_uid,
        "connector_id": str(tx.connector_id),
        # Not recorded by the charger model yet: left empty rather than guessed.
        "connector_standard": None,
        "connector_format": None,
        "connector_power_type": None,
    }
    return {
        "charge_point": cp,
        "charge_point_identity": cp.identity,
        "location": loc,
        "evse_id": tx.evse_id,
        "connector_id": tx.connector_id,
        "cdr_location": snapshot,
    }


def _tariff_snapshot(t: Tariff) -> dict:
    """The OCPI Tariff object with decimals as strings (JSON has no exact decimal type)."""
    body = tariff_structure(t, num=lambda d: format(number(d), "f"))
    head = {k: body.pop(k) for k in ("country_code", "party_id") if k in body}
    return {**head, "id": t.ocpi_id, **body, "last_updated": format_datetime(t.last_updated)}


def _pricing_fields(tx: Transaction, tariff: Tariff | None, org) -> dict:
    cp = tx.charge_point
    time_zone = cp.location.time_zone if cp.location else org.timezone
    session, notes = pricing.session_for_transaction(tx, time_zone=time_zone)
    currency = tariff.currency if tariff else org.currency
    # Without a tariff the engine still measures energy, time and parking (every line unpriced).
    domain_tariff = tariff_to_domain(tariff) if tariff else DomainTariff(currency=currency, elements=())
    try:
        result = engine.price_session(domain_tariff, session)
    except engine.PricingError as exc:
        notes.append(f"Not priced: {exc}")
        result = engine.price_session(
            DomainTariff(currency=currency, elements=()),
            engine.Session(start=session.start, end=session.start, time_zone=time_zone),
        )
    if tariff is None:
        notes.append("No tariff applies to this charger at the session start: nothing is charged.")
    else:
        free = free_session_reason(
            energy_kwh=engine.to_decimal(result.total_volume("ENERGY"), 6),
            duration=session.end - session.start,
            rules=billing_settings(),
        )
        if free is not None:
            # Measured as usual (energy, time, parking), charged nothing.
            result = engine.price_session(DomainTariff(currency=currency, elements=()), session)
            notes.append(f"Free: below the minimum billable session ({free}).")
    notes += result.warnings
    fields = {
        "start_date_time": tx.started_at,
        "end_date_time": session.end,
        "time_zone": time_zone,
        "currency": currency,
        "tariff": tariff,
        "tariffs": [_tariff_snapshot(tariff)] if tariff else [],
        "charging_periods": pricing.charging_periods(result),
        "cost_lines": pricing.cost_lines(result),
        "total_cost_excl_vat": result.total_excl_vat,
        "total_cost_incl_vat": result.total_incl_vat,
        "total_energy": engine.to_decimal(result.total_volume("ENERGY"), 6),
        "total_time": engine.to_decimal(result.total_volume("TIME"), 6),
        "total_parking_time": engine.to_decimal(result.total_volume("PARKING_TIME"), 6),
        "min_price_applied": result.min_price_applied,
        "max_price_applied": result.max_price_applied,
        "no_tariff": tariff is None,
        **pricing.dimension_costs(result, currency),
    }
    if tariff is not None and currency != org.currency:
        try:
            rate, day = exchange_rate(currency, org.currency, session.end.date())
        except RateUnavailable as exc:
            notes.append(f"Not converted to {org.currency}: {exc}")
        else:
            fields.update(
                organization_currency=org.currency,
                converted_total_excl_vat=quantize(result.total_excl_vat * rate, org.currency),
                converted_total_incl_vat=quantize(result.total_incl_vat * rate, org.currency),
                conversion_rate=rate,
                conversion_rate_date=day,
            )
    fields["pricing_notes"] = "\n".join(notes)
    return fields


def _build(tx: Transaction, *, tariff=_EFFECTIVE) -> ChargeDetailRecord:
    org = current_organization()
    if tariff is _EFFECTIVE:
        # The card's owner decides the customer group (member, fleet) prices.
        owner = tx.id_token.owner if tx.id_token_id else None
        tariff = tariff_for_charging(charge_point=tx.charge_point, evse_id=tx.evse_id, user=owner, at=tx.started_at)
    elif tariff is not None:
        tariff = tariff_list().get(pk=tariff.pk)  # prefetched elements for the snapshot
    return ChargeDetailRecord(
        transaction=tx,
        **_token_fields(tx),
        **_location_fields(tx),
        **_pricing_fields(tx, tariff, org),
        last_updated=timezone.now(),
    )


def _locked_transaction(tx: Transaction) -> Transaction:
    # Serialises concurrent creators (stop handler, task retry, management command) per transaction;
    # the partial unique constraint stays the last line of defence.
    return (
        Transaction.objects.select_for_update(of=("self",))
        .select_related("charge_point__location", "id_token__owner")
        .get(pk=tx.pk)
    )


@db_transaction.atomic
def cdr_create_for_transaction(*, transaction: Transaction, issue_receipt: bool = True) -> ChargeDetailRecord:
    """The CDR of a completed transaction, created once (later calls return the same record);
    with `issue_receipt`, the driver's invoice is issued in the same database transaction."""
    tx = _locked_transaction(transaction)
    existing = cdr_original(transaction_id=tx.pk)
    if existing is not None:
        return existing
    if tx.status != Transaction.Status.COMPLETED:
        raise ValidationError("Only a completed transaction has a charge detail record.")
    cdr = _build(tx)
    cdr.save()
    if issue_receipt:
        invoice_issue_for_cdr(cdr=cdr)
    _settle_after_commit(cdr)
    return cdr


class MissingCdrs(NamedTuple):
    created: int
    failed: int


def cdr_create_missing(
    *, window: dt.timedelta = MISSING_CDR_WINDOW, grace: dt.timedelta = MISSING_CDR_GRACE
) -> MissingCdrs:
    """In the current schema: the CDR (and receipt) of every transaction completed between
    `window` and `grace` ago that has none, because its billing.create_cdr publish was lost
    after commit (queue_after_commit is robust: a broker failure there is only logged).

    Not atomic on purpose: each transaction is created in its own database transaction, so one
    that cannot be priced is logged and skipped (and tried again by the next sweep until it
    leaves the window) without undoing or stopping the others."""
    now = timezone.now()
    missing = list(transactions_without_cdr(stopped_from=now - window, stopped_before=now - grace))
    created = failed = 0
    for tx in missing:
        try:
            cdr_create_for_transaction(transaction=tx)
        except Exception:
            failed += 1
            logger.exception("missing CDR of transaction %s in %s could not be created", tx.pk, connection.schema_name)
        else:
            created += 1
    if missing:
        # Each one is a create_cdr publish that was lost (or a task that failed for good).
        logger.warning("missing CDRs in %s: %d created, %d failed", connection.schema_name, created, failed)
    return MissingCdrs(created=created, failed=failed)


def _settle_after_commit(cdr: ChargeDetailRecord) -> None:
    """Announce the record once it is committed: payments takes the money (captures the
    session's card hold or debits the driver's wallet), roaming will push it."""
    publish(CdrCreated(cdr_pk=cdr.pk, transaction_pk=cdr.transaction_id, replaces_pk=cdr.replaces_id))


@db_transaction.atomic
def cdr_correct_for_transaction(*, transaction_pk: int, reason: str) -> ChargeDetailRecord | None:
    """Correct the latest CDR of a transaction whose figures changed after it was priced
    (a 2.x event delivered late); None when it has no CDR yet (the CDR task will read the
    new figures) or the figures price the same."""
    original = cdr_original(transaction_id=transaction_pk)
    if original is None:
        return None
    return cdr_correct(cdr=cdr_latest(cdr=original), reason=reason)


@db_transaction.atomic
def cdr_correct(*, cdr: ChargeDetailRecord, reason: str, tariff=_EFFECTIVE, user=None) -> ChargeDetailRecord:
    """A new CDR replacing `cdr`, re-priced from the transaction as stored now (late meter values
    count) with the same tariff, or `tariff` when given (None: unpriced). The old record stays
    as it was; its invoice, if any, is credited in full and the new record invoiced."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is corrected."})
    tx = _locked_transaction(cdr.transaction)
    if ChargeDetailRecord.objects.filter(replaces=cdr).exists():
        raise ValidationError("This record has already been corrected; correct the latest one.")
    if tariff is _EFFECTIVE:
        tariff = cdr.tariff if cdr.tariff_id else _EFFECTIVE
    new = _build(tx, tariff=tariff)
    new.replaces = cdr
    new.correction_reason = reason.strip()
    new.save()
    for invoice in cdr.invoices.filter(kind="invoice"):
        if invoice_credited_amount(invoice=invoice) < invoice.total_incl_vat:
            credit_note_issue(
                invoice=invoice, reason=f"Charge detail record corrected: {new.correction_reason}", user=user
            )
    invoice_issue_for_cdr(cdr=new)
    _settle_after_commit(new)
    return new
