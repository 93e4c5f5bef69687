"""What charging publishes (apps.core.events): the life of a transaction.

Fired by apps.charging.services and apps.charging.transaction_events after commit; see
docs/events.md. Keys only: `transaction_pk` is Transaction.pk (not the charger's id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.core.events import Event


@dataclass(frozen=True)
class TransactionStarted(Event):
    transaction_pk: int
    charge_point_id: int
    evse_id: int | None
    connector_id: int
    id_tag: str
    auth_status: str
    started_at: datetime


@dataclass(frozen=True)
class TransactionAuthorised(Event):
    """The transaction has an accepted id token behind it: at the start (1.6, or a 2.x
    Started event with a token) or when a 2.x token arrives in a later event. That is when
    a card on file can be held for it."""

    transaction_pk: int
    id_token_pk: int | None


@dataclass(frozen=True)
class TransactionFiguresChanged(Event):
    """Meter values were stored for the transaction, or its start / stop / meter readings /
    token moved. `completed`: the transaction had already ended -- its CDR, if priced, is
    out of date (a 2.x event delivered late)."""

    transaction_pk: int
    completed: bool = False


@dataclass(frozen=True)
class TransactionEnded(Event):
    transaction_pk: int
    charge_point_id: int
    stopped_at: datetime
    reason: str
