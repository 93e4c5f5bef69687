"""Other means of payment that take a driver's sessions out of the wallet rules.

A means above wallets (payments' card on file) registers here in its AppConfig.ready(), so the
wallet's authorisation asks it without wallets importing payments (the dependency points one
way: payments → wallets)."""

from __future__ import annotations

from collections.abc import Callable

# (name, payer): payer(user=...) is true when that means pays this driver's sessions.
_payers: list[tuple[str, Callable[..., bool]]] = []


def other_payer_register(name: str, payer: Callable[..., bool]) -> None:
    """Idempotent by name: ready() may run more than once in tests."""
    _payers[:] = [(n, p) for n, p in _payers if n != name]
    _payers.append((name, payer))


def other_payer(*, user) -> str | None:
    """The name of the first registered means that pays this driver's sessions, or None."""
    for name, payer in _payers:
        if payer(user=user):
            return name
    return None
