"""Other payers (apps.wallets.payers): a means above wallets takes a driver's sessions out
of the wallet rules without wallets importing it (payments registers its card on file)."""

from decimal import Decimal

import pytest

from apps.wallets import payers
from apps.wallets.models import WalletSettings
from apps.wallets.selectors import wallet_authorization
from apps.wallets.services import wallet_get_or_create


@pytest.fixture
def no_payers(monkeypatch):
    monkeypatch.setattr(payers, "_payers", [])


def test_payments_registers_the_card_on_file_at_start():
    # AppConfig.ready() ran: the wallet rules ask payments' card rule without importing it.
    assert [name for name, _ in payers._payers] == ["card"]


def test_registration_is_idempotent_by_name_and_keeps_order(no_payers):
    payers.other_payer_register("fleet", lambda *, user: False)
    payers.other_payer_register("card", lambda *, user: True)
    payers.other_payer_register("fleet", lambda *, user: True)  # ready() ran again: replaced
    assert [name for name, _ in payers._payers] == ["card", "fleet"]
    assert payers.other_payer(user=object()) == "card"


@pytest.mark.django_db
def test_a_registered_payer_takes_the_driver_out_of_the_wallet_rules(in_tenant_a, driver, no_payers):
    WalletSettings.objects.create(min_start_balance=Decimal("5"))
    wallet_get_or_create(user=driver)  # empty wallet
    assert wallet_authorization(user=driver).reason == "balance below minimum"

    payers.other_payer_register("fleet", lambda *, user: user.pk == driver.pk)
    verdict = wallet_authorization(user=driver)
    assert verdict.allowed and verdict.reason == "fleet"


@pytest.mark.django_db
def test_a_payer_that_declines_leaves_the_wallet_rules_in_force(in_tenant_a, driver, no_payers):
    WalletSettings.objects.create(min_start_balance=Decimal("5"))
    wallet_get_or_create(user=driver)
    payers.other_payer_register("fleet", lambda *, user: False)
    assert wallet_authorization(user=driver).reason == "balance below minimum"
