"""A wallet-paid session that has used up the balance is stopped remotely (once)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create
from apps.charging.services import id_token_create, meter_values_record, transaction_start
from apps.csms.models import Command
from apps.tariffs.models import TariffAssignment
from apps.tariffs.services import tariff_assign, tariff_import_ocpi
from apps.wallets.models import WalletSettings
from apps.wallets.services import wallet_get_or_create, wallet_topup_confirm
from apps.wallets.tasks import stop_exhausted_sessions_here


def _session(cp, tag, kwh):
    start = timezone.now() - dt.timedelta(minutes=30)
    tx, _ = transaction_start(
        charge_point_id=cp.pk, connector_id=1 if tag.endswith("1") else 2, id_tag=tag, meter_start=0, timestamp=start
    )
    meter_values_record(
        charge_point_id=cp.pk,
        connector_id=tx.connector_id,
        transaction=tx,
        meter_values=[
            {
                "timestamp": start + dt.timedelta(minutes=20),
                "sampled_value": [
                    {"value": str(kwh * 1000), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                ],
            }
        ],
    )
    return tx


@pytest.mark.django_db
def test_exhausted_wallet_session_is_stopped_once(in_tenant_a, tenant_a, make_user):
    tariff_assign(
        tariff=tariff_import_ocpi(
            data={
                "country_code": "DE",
                "party_id": "EVZ",
                "id": "W",
                "currency": "EUR",
                "last_updated": "2026-01-01T00:00:00Z",
                "elements": [{"price_components": [{"type": "ENERGY", "price": "0.50", "vat": 0, "step_size": 1}]}],
            }
        ),
        scope=TariffAssignment.Scope.ORGANIZATION,
    )
    cp = charge_point_create(identity="WSTOP", password="s" * 20)
    poor, rich = make_user(tenant_a, role=Role.DRIVER), make_user(tenant_a, role=Role.DRIVER)
    for user, tag, amount in ((poor, "POOR-1", "6.00"), (rich, "RICH-2", "100.00")):
        id_token_create(id_token=tag, owner=user)
        account = wallet_get_or_create(user=user)
        wallet_topup_confirm(
            account=account, amount=Decimal(amount), currency=account.currency, payment_reference=f"top-{tag}"
        )
    poor_tx = _session(cp, "POOR-1", kwh=20)  # 10.00 EUR so far > 6.00 balance
    _session(cp, "RICH-2", kwh=20)

    assert stop_exhausted_sessions_here() == 1
    stop = Command.objects.get(action="RemoteStopTransaction")
    assert stop.payload == {"transactionId": int(poor_tx.transaction_id)} and stop.source == "wallet"
    assert stop_exhausted_sessions_here() == 0  # asked already; not again within minutes

    WalletSettings.objects.update_or_create(pk=1, defaults={"stop_when_exhausted": False})
    Command.objects.all().delete()
    assert stop_exhausted_sessions_here() == 0


@pytest.mark.django_db
def test_exhausted_wallet_session_on_a_2x_station_gets_request_stop(in_tenant_a, tenant_a, make_user):
    tariff_assign(
        tariff=tariff_import_ocpi(
            data={
                "country_code": "DE",
                "party_id": "EVZ",
                "id": "W2",
                "currency": "EUR",
                "last_updated": "2026-01-01T00:00:00Z",
                "elements": [{"price_components": [{"type": "ENERGY", "price": "0.50", "vat": 0, "step_size": 1}]}],
            }
        ),
        scope=TariffAssignment.Scope.ORGANIZATION,
    )
    cp = charge_point_create(identity="WSTOP2", password="s" * 20, protocol_version="ocpp2.0.1")
    poor = make_user(tenant_a, role=Role.DRIVER)
    id_token_create(id_token="POOR-1", owner=poor)
    account = wallet_get_or_create(user=poor)
    wallet_topup_confirm(account=account, amount=Decimal("6.00"), currency=account.currency, payment_reference="t2")
    tx = _session(cp, "POOR-1", kwh=20)
    # A 2.x transaction id is the station's own string.
    type(tx).objects.filter(pk=tx.pk).update(transaction_id="5b2c8a4e-tx")

    assert stop_exhausted_sessions_here() == 1
    stop = Command.objects.get(charge_point=cp)
    assert (stop.action, stop.payload) == ("RequestStopTransaction", {"transactionId": "5b2c8a4e-tx"})
    assert stop_exhausted_sessions_here() == 0
