"""Payments listens to charging and billing (apps.core.events); receivers only queue tasks.
It also tells the wallet rules when a card on file pays a driver's sessions (apps.wallets.payers)."""

from __future__ import annotations

from apps.billing.events import CdrCreated
from apps.charging.events import TransactionAuthorised
from apps.core.events import subscribe
from apps.core.tenancy import queue_after_commit
from apps.payments.selectors import card_for_sessions
from apps.payments.tasks import preauthorize_transaction, settle_cdr
from apps.wallets.payers import other_payer_register


def on_transaction_authorised(*, events, schema) -> None:
    """Card-on-file sessions: hold the pre-authorisation (a no-op for drivers no card pays)."""

    for event in events:
        queue_after_commit(preauthorize_transaction, event.transaction_pk)


def on_cdr_created(*, events, schema) -> None:
    """Take the money: capture the session's card hold or debit the driver's wallet
    (settle_cdr decides which, idempotently)."""

    for event in events:
        queue_after_commit(settle_cdr, event.cdr_pk)


def card_pays(*, user) -> bool:
    """README "Which pays a driver's session": a usable card on file the rule picks."""
    return card_for_sessions(user=user) is not None


def connect() -> None:
    other_payer_register("card", card_pays)
    subscribe(TransactionAuthorised, on_transaction_authorised, uid="payments.preauthorize")
    subscribe(CdrCreated, on_cdr_created, uid="payments.settle_cdr")
