"""The one place that writes journal lines and moves cached balances.

Every caller goes through `post`: it refuses unbalanced entries, locks the accounts it touches
(in primary-key order, so two entries touching the same accounts queue instead of deadlocking)
and updates the cached balances in the same database transaction as the lines.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from apps.core.money import quantize
from apps.wallets.models import JournalEntry, JournalLine, LedgerAccount


class UnbalancedEntry(ValueError):
    pass


class WalletOverdrawn(ValueError):
    pass


def system_account(kind: str, currency: str) -> LedgerAccount:
    """The organisation's system account of this kind and currency, created on first use."""
    account = LedgerAccount.objects.filter(kind=kind, currency=currency).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(kind=kind, currency=currency)
    except IntegrityError:  # created by a concurrent first use
        return LedgerAccount.objects.get(kind=kind, currency=currency)


def lock_accounts(pks) -> dict[int, LedgerAccount]:
    return {a.pk: a for a in LedgerAccount.objects.select_for_update().filter(pk__in=sorted(set(pks))).order_by("pk")}


def post(*, kind: str, idempotency_key: str, lines: list[tuple[LedgerAccount, Decimal]], **fields) -> JournalEntry:
    """Write one balanced entry. Callers that read a balance to decide an amount lock the wallet
    first (`lock_accounts`) inside the same atomic block; locking again here is a no-op then."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post() must run inside transaction.atomic")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    clean = []
    for account, amount in lines:
        amount = quantize(Decimal(amount), account.currency)
        if amount == 0:
            continue
        totals[account.currency] += amount
        clean.append((account, amount))
    if not clean or any(total != 0 for total in totals.values()):
        raise UnbalancedEntry(f"lines must sum to zero per currency: {dict(totals)}")
    locked = lock_accounts(a.pk for a, _ in clean)
    for account, amount in clean:
        current = locked[account.pk]
        if current.is_wallet and current.balance + amount < 0:
            raise WalletOverdrawn(f"{current} holds {current.balance} {current.currency}")
    entry = JournalEntry.objects.create(kind=kind, idempotency_key=idempotency_key, **fields)
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=account, amount=amount, currency=account.currency) for account, amount in clean
    )
    for account, amount in clean:
        LedgerAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
        locked[account.pk].balance += amount
    return entry
