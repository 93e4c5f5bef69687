"""Writes for wallets. Every movement is one balanced journal entry (apps.wallets.ledger.post),
idempotent by a natural key, traceable to its cause and to the person who made it."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import STAFF_ROLES
from apps.billing.models import ChargeDetailRecord
from apps.core.money import quantize
from apps.wallets import ledger
from apps.wallets.models import JournalEntry, JournalLine, LedgerAccount
from apps.wallets.selectors import organization_currency, paying_account

Kind = LedgerAccount.Kind
ZERO = Decimal(0)


def new_key() -> str:
    """An idempotency key for a form: rendered once, so a double submit moves money once."""
    return uuid.uuid4().hex


def wallet_get_or_create(*, user, currency: str | None = None) -> LedgerAccount:
    currency = currency or organization_currency()
    found = LedgerAccount.objects.filter(kind=Kind.DRIVER_WALLET, owner=user, currency=currency).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(
                kind=Kind.DRIVER_WALLET, owner=user, currency=currency, name=f"Wallet of {user.email}"
            )
    except IntegrityError:
        return LedgerAccount.objects.get(kind=Kind.DRIVER_WALLET, owner=user, currency=currency)


def _existing(key: str) -> JournalEntry | None:
    return JournalEntry.objects.filter(idempotency_key=key).first()


def _positive(amount: Decimal, currency: str) -> Decimal:
    amount = quantize(Decimal(amount), currency)
    if amount <= 0:
        raise ValidationError({"amount": "The amount must be positive."})
    return amount


def _require_staff(user) -> None:
    if user is None or getattr(user, "role", None) not in STAFF_ROLES:
        raise PermissionDenied("Only the organisation's staff may move money by hand.")


@transaction.atomic
def wallet_topup_confirm(
    *, account: LedgerAccount, amount: Decimal, currency: str, payment_reference: str, member=None
) -> JournalEntry:
    """Credit a top-up the gateway confirmed (webhook). Once per gateway payment."""
    if currency != account.currency:
        raise ValidationError({"currency": f"This wallet holds {account.currency}."})
    amount = _positive(amount, currency)
    key = f"topup:{payment_reference}"
    ledger.lock_accounts([account.pk])  # serialises a webhook and its redelivery
    if (entry := _existing(key)) is not None:
        return entry
    clearing = ledger.system_account(Kind.GATEWAY_CLEARING, currency)
    return ledger.post(
        kind=JournalEntry.Kind.TOPUP,
        idempotency_key=key,
        lines=[(account, amount), (clearing, -amount)],
        external_reference=payment_reference,
        member=member,
        memo="Top-up",
    )


def _cdr_amount(cdr: ChargeDetailRecord, currency: str) -> Decimal:
    if cdr.currency == currency:
        return cdr.total_cost_incl_vat
    if cdr.organization_currency == currency and cdr.converted_total_incl_vat is not None:
        return cdr.converted_total_incl_vat
    raise ValidationError(f"CDR {cdr.cdr_id} is in {cdr.currency} and has no amount in {currency}.")


def _charged_so_far(transaction_id: int, revenue: LedgerAccount) -> Decimal:
    """What earlier CDRs of the same session already charged (revenue received)."""
    lines = JournalLine.objects.filter(entry__transaction_id=transaction_id, account=revenue)
    return sum((ln.amount for ln in lines), ZERO)


@transaction.atomic
def wallet_debit_for_cdr(*, cdr: ChargeDetailRecord) -> JournalEntry | None:
    """Charge a session's final cost to the wallet that pays for its driver: once per CDR.

    A correction CDR charges (or gives back) only the difference to what the session was
    already charged. The energy was delivered whatever the balance: what the wallet cannot
    cover is booked to receivables (`entry.shortfall`) for the operator to collect, and the
    wallet goes to zero, never below. Returns None when the driver pays without a wallet."""
    key = f"cdr:{cdr.cdr_id}"
    if (entry := _existing(key)) is not None:
        return entry
    earlier = (
        JournalLine.objects.filter(
            entry__transaction_id=cdr.transaction_id, account__kind__in=LedgerAccount.WALLET_KINDS
        )
        .select_related("account", "entry")
        .first()
    )
    if earlier is not None:
        account, member = earlier.account, earlier.entry.member
    else:
        account, membership = paying_account(user=cdr.driver)
        member = cdr.driver if membership is not None else None
        if account is None:
            return None
    locked = ledger.lock_accounts([account.pk])[account.pk]
    # Checked again under the lock: a concurrent call for the same CDR has committed by now.
    if (entry := _existing(key)) is not None:
        return entry
    currency = account.currency
    revenue = ledger.system_account(Kind.REVENUE, currency)
    due = quantize(_cdr_amount(cdr, currency), currency) - _charged_so_far(cdr.transaction_id, revenue)
    fields = {"cdr": cdr, "transaction_id": cdr.transaction_id, "member": member}
    if due >= 0:
        paid = min(due, locked.balance)
        shortfall = due - paid
        lines = [(account, -paid), (revenue, due)]
        if shortfall:
            lines.append((ledger.system_account(Kind.RECEIVABLES, currency), -shortfall))
        if due == 0:  # nothing to move, but remember that this CDR was handled
            lines = [(account, ZERO)]
        return _post_or_record(
            kind=JournalEntry.Kind.SESSION_DEBIT,
            key=key,
            lines=lines,
            shortfall=shortfall,
            memo=f"Session {cdr.charge_point_identity}",
            **fields,
        )
    return ledger.post(
        kind=JournalEntry.Kind.SESSION_CREDIT,
        idempotency_key=key,
        lines=[(account, -due), (revenue, due)],
        memo=f"Correction of session {cdr.charge_point_identity}",
        **fields,
    )


def _post_or_record(*, kind, key, lines, **fields) -> JournalEntry:
    if all(amount == 0 for _, amount in lines):
        return JournalEntry.objects.create(kind=kind, idempotency_key=key, **fields)
    return ledger.post(kind=kind, idempotency_key=key, lines=lines, **fields)


@transaction.atomic
def wallet_refund(
    *,
    account: LedgerAccount,
    amount: Decimal,
    reason: str,
    user,
    cdr: ChargeDetailRecord | None = None,
    idempotency_key: str | None = None,
) -> JournalEntry:
    """Give money back to a wallet (e.g. a credited session), recorded with the staff member."""
    _require_staff(user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the money is refunded."})
    amount = _positive(amount, account.currency)
    key = f"refund:{idempotency_key or uuid.uuid4()}"
    ledger.lock_accounts([account.pk])
    if (entry := _existing(key)) is not None:
        return entry
    refunds = ledger.system_account(Kind.REFUNDS, account.currency)
    return ledger.post(
        kind=JournalEntry.Kind.REFUND,
        idempotency_key=key,
        lines=[(account, amount), (refunds, -amount)],
        cdr=cdr,
        transaction_id=cdr.transaction_id if cdr else None,
        created_by=user,
        memo=reason.strip()[:255],
    )


@transaction.atomic
def wallet_adjust(
    *, account: LedgerAccount, amount: Decimal, reason: str, user, idempotency_key: str | None = None
) -> JournalEntry:
    """A manual correction (positive credits the wallet, negative takes money out), recorded
    with the staff member who made it. It cannot overdraw the wallet."""
    _require_staff(user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the balance is adjusted."})
    amount = quantize(Decimal(amount), account.currency)
    if amount == 0:
        raise ValidationError({"amount": "The amount must not be zero."})
    key = f"adjust:{idempotency_key or uuid.uuid4()}"
    ledger.lock_accounts([account.pk])
    if (entry := _existing(key)) is not None:
        return entry
    adjustments = ledger.system_account(Kind.ADJUSTMENTS, account.currency)
    try:
        return ledger.post(
            kind=JournalEntry.Kind.ADJUSTMENT,
            idempotency_key=key,
            lines=[(account, amount), (adjustments, -amount)],
            created_by=user,
            memo=reason.strip()[:255],
        )
    except ledger.WalletOverdrawn as exc:
        raise ValidationError({"amount": str(exc)}) from exc
