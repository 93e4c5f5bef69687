"""Domain events: how one app tells the others what happened without knowing they exist.

A publisher (charging, chargers, billing) defines its events as frozen dataclasses in its
own `events.py` and calls `publish(*events)` inside the service that made the change.
Nothing is delivered until the database transaction commits (`transaction.on_commit`,
as Saleor's events and Baserow's broadcasts do): a rolled-back change announces nothing.
A subscriber registers in its `AppConfig.ready()` with `subscribe(EventType, receiver)`;
the receiver gets a tuple of events of that type -- a batch path (the status and meter
value group commits) publishes once per batch -- and only queues work (a Celery task, an
in-process buffer). It never does the work in the publisher's thread: on the OCPP path
that thread holds a charger's answer.

Delivery is in-process and at-most-once: if the process dies between the commit and the
send, the event is gone. A subscriber that must not miss one (billing's CDRs) keeps a
sweep that finds what its events would have caused (e.g. billing.create_missing_cdrs).
The catalogue of events is in docs/events.md.

Built on django.dispatch.Signal (one signal per event type, send_robust): one failing
receiver is logged and never reaches the publisher or the other receivers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.dispatch import Signal
from django_tenants.utils import schema_context

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Base of every domain event. Events carry keys and values, never model instances:
    a receiver reads what it needs in its own task, in the organisation's schema (the
    `schema` argument it receives)."""


_signals: dict[type[Event], Signal] = {}


def _signal(event_type: type[Event]) -> Signal:
    signal = _signals.get(event_type)
    if signal is None:
        signal = _signals[event_type] = Signal()
    return signal


Receiver = Callable[..., None]


def subscribe(event_type: type[Event], receiver: Receiver, *, uid: str | None = None) -> None:
    """Call `receiver(events=(event, ...), schema="...")` after every commit that published
    events of `event_type`. Registered once per `uid` (AppConfig.ready may run twice)."""
    _signal(event_type).connect(
        _adapt(receiver), weak=False, dispatch_uid=uid or f"{receiver.__module__}.{receiver.__qualname__}"
    )


def unsubscribe(event_type: type[Event], receiver: Receiver, *, uid: str | None = None) -> None:
    _signal(event_type).disconnect(dispatch_uid=uid or f"{receiver.__module__}.{receiver.__qualname__}")


def _adapt(receiver: Receiver):
    def call(sender, *, events, schema, **_):
        receiver(events=events, schema=schema)

    # Not __wrapped__: inspect.signature would follow it, and Signal.connect (under DEBUG)
    # would then see the receiver's own signature, which takes no **kwargs.
    call.receiver = receiver
    return call


def has_subscribers(event_type: type[Event]) -> bool:
    signal = _signals.get(event_type)
    return signal is not None and signal.has_listeners()


def publish(*events: Event) -> None:
    """Deliver `events` to their subscribers once the current transaction commits (at once
    when there is none), in the current organisation's schema. Events of several types are
    delivered type by type, in order of first appearance."""
    if not events:
        return
    by_type: dict[type[Event], list[Event]] = {}
    for event in events:
        if has_subscribers(type(event)):
            by_type.setdefault(type(event), []).append(event)
    if not by_type:
        return  # the common case on the OCPP hot path today: nobody listens, nothing to schedule
    schema = connection.schema_name

    def deliver():
        with schema_context(schema):
            for event_type, batch in by_type.items():
                for receiver, result in _signal(event_type).send_robust(
                    sender=event_type, events=tuple(batch), schema=schema
                ):
                    if isinstance(result, Exception):
                        logger.error(
                            "event receiver %s failed on %s in %s",
                            getattr(receiver, "receiver", receiver),
                            event_type.__name__,
                            schema,
                            exc_info=result,
                        )

    transaction.on_commit(deliver, robust=True)
