"""Billing listens to charging (apps.core.events) and prices for it (apps.charging.hooks).

Receivers only queue tasks: pricing never runs in the thread that answers a charger."""

from __future__ import annotations

from apps.billing.selectors import running_cost
from apps.billing.tasks import correct_cdr, create_cdr
from apps.charging.events import TransactionEnded, TransactionFiguresChanged
from apps.charging.hooks import running_cost_provider_register
from apps.core.events import subscribe
from apps.core.tenancy import queue_after_commit


def on_transaction_ended(*, events, schema) -> None:
    for event in events:
        # Lost between commit and queue? billing.create_missing_cdrs (beat) finds the session.
        queue_after_commit(create_cdr, event.transaction_pk)


def on_transaction_figures_changed(*, events, schema) -> None:
    for pk in sorted({e.transaction_pk for e in events if e.completed}):
        queue_after_commit(correct_cdr, pk)


def _running_cost(*, transaction):
    return running_cost(transaction=transaction)


def connect() -> None:
    subscribe(TransactionEnded, on_transaction_ended, uid="billing.create_cdr")
    subscribe(TransactionFiguresChanged, on_transaction_figures_changed, uid="billing.correct_cdr")
    running_cost_provider_register(_running_cost)
