"""What billing publishes (apps.core.events)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True)
class CdrCreated(Event):
    """A charge detail record was stored: the first of a session, or a correction
    (`replaces_pk` set). Payments settles it; roaming will push it."""

    cdr_pk: int
    transaction_pk: int
    replaces_pk: int | None = None
