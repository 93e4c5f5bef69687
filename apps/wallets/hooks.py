"""The wallet's say in charging's authorisation (apps.charging.hooks)."""

from __future__ import annotations

from apps.charging.hooks import AuthorizationCheck, Veto, authorization_check_register
from apps.wallets.selectors import wallet_authorization_for_id_tag

# Wallet verdicts that mean "this driver pays another way" rather than "refuse".
_NOT_A_WALLET_DRIVER = {"no wallet", "token has no driver"}


def wallet_check(*, id_tag: str, token, charge_point_id: int, location_id: int | None) -> Veto | None:
    """A prepaid driver whose balance (or group limit, hours, location) does not allow a
    session is Blocked (2.x: NoCredit)."""

    verdict = wallet_authorization_for_id_tag(id_tag=id_tag, location_id=location_id)
    if verdict.allowed or verdict.reason in _NOT_A_WALLET_DRIVER:
        return None
    return Veto(status="Blocked", reason="wallet")


def connect() -> None:
    authorization_check_register(AuthorizationCheck(name="wallets", check=wallet_check, needs_owner=True))
