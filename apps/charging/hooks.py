"""Where apps above charging plug into decisions charging must make synchronously.

Events (apps.charging.events) tell other apps what happened, after the fact. Two things
cannot wait for that, because the answer to the charger depends on them:

* **authorisation checks** -- may this token charge here now? Charging owns the verdict
  (id_token_info_for_charging); a wallet, a fleet's limits or a roaming partner's
  real-time authorisation each register a check that can veto it;
* **the running cost** -- OCPP 2.x sends totalCost in the Ended answer and CostUpdated
  while a session runs; billing registers the function that prices a transaction.

Apps register in their AppConfig.ready(); charging never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Veto:
    """An authorisation check's refusal. `status`: the OCPP 1.6 idTagInfo status to answer
    (Blocked, Expired, Invalid); `reason`: a short word the 2.x mapping reads
    ("wallet" -> NoCredit)."""

    status: str
    reason: str


@dataclass(frozen=True)
class AuthorizationCheck:
    name: str
    # check(id_tag=..., token=IdToken, charge_point_id=..., location_id=...) -> Veto | None
    check: Callable[..., Veto | None]
    # Only for tokens with a driver behind them (owner set): lets the Authorize and
    # StartTransaction hot path skip every lookup for fleet and roaming cards.
    needs_owner: bool = False


_checks: dict[str, AuthorizationCheck] = {}


def authorization_check_register(check: AuthorizationCheck) -> None:
    _checks[check.name] = check


def authorization_check_unregister(name: str) -> None:
    _checks.pop(name, None)


def authorization_checks(*, has_owner: bool) -> list[AuthorizationCheck]:
    return [c for c in _checks.values() if has_owner or not c.needs_owner]


# Running cost: (transaction) -> {"currency", "total_excl_vat", "total_incl_vat", ...} or None.
CostProvider = Callable[..., "dict | None"]
_cost_provider: CostProvider | None = None


def running_cost_provider_register(provider: CostProvider | None) -> None:
    global _cost_provider
    _cost_provider = provider


def running_cost(*, transaction) -> Decimal | None:
    """The transaction's cost so far including VAT, or None when nothing prices it."""
    if _cost_provider is None:
        return None
    cost = _cost_provider(transaction=transaction)
    return None if cost is None else Decimal(cost["total_incl_vat"])
