"""OCPP authorisation asks the wallet: a prepaid driver without enough balance is Blocked,
drivers who pay another way are unaffected."""

from decimal import Decimal

import pytest

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create
from apps.charging.selectors import id_token_info_for_charging
from apps.charging.services import id_token_create
from apps.wallets.services import wallet_get_or_create, wallet_topup_confirm


@pytest.mark.django_db
def test_wallet_balance_decides_authorisation(in_tenant_a, tenant_a, make_user):
    cp = charge_point_create(identity="WAL-CP", password="w" * 20)
    prepaid = make_user(tenant_a, role=Role.DRIVER)
    invoiced = make_user(tenant_a, role=Role.DRIVER)
    id_token_create(id_token="PREPAID-1", owner=prepaid)
    id_token_create(id_token="INVOICED-1", owner=invoiced)
    id_token_create(id_token="FLEET-CARD")  # no driver at all
    account = wallet_get_or_create(user=prepaid)

    assert id_token_info_for_charging(id_tag="PREPAID-1", charge_point_id=cp.pk).status == "Blocked"
    wallet_topup_confirm(account=account, amount=Decimal("20.00"), currency=account.currency, payment_reference="t1")
    assert id_token_info_for_charging(id_tag="prepaid-1", charge_point_id=cp.pk).status == "Accepted"
    # No wallet, or no driver: another way of paying, never refused for a balance.
    assert id_token_info_for_charging(id_tag="INVOICED-1", charge_point_id=cp.pk).status == "Accepted"
    assert id_token_info_for_charging(id_tag="FLEET-CARD", charge_point_id=cp.pk).status == "Accepted"
    assert id_token_info_for_charging(id_tag="UNKNOWN", charge_point_id=cp.pk).status == "Invalid"
