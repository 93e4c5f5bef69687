"""Payments listens to charging and billing (apps.core.events); receivers only queue tasks."""

from __future__ import annotations

from apps.billing.events import CdrCreated
from apps.charging.events import TransactionAuthorised
from apps.core.events import subscribe
from apps.core.tenancy import queue_after_commit


def on_transaction_authorised(*, events, schema) -> None:
    """Card-on-file sessions: hold the pre-authorisation (a no-op for drivers no card pays)."""
    from apps.payments.tasks import preauthorize_transaction

    for event in events:
        queue_after_commit(preauthorize_transaction, event.transaction_pk)


def on_cdr_created(*, events, schema) -> None:
    """Take the money: capture the session's card hold or debit the driver's wallet
    (settle_cdr decides which, idempotently)."""
    from apps.payments.tasks import settle_cdr

    for event in events:
        queue_after_commit(settle_cdr, event.cdr_pk)


def connect() -> None:
    subscribe(TransactionAuthorised, on_transaction_authorised, uid="payments.preauthorize")
    subscribe(CdrCreated, on_cdr_created, uid="payments.settle_cdr")
