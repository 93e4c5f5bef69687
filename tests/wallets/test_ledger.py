"""The ledger: balanced entries, balances derived from lines, idempotent debits per CDR,
shortfalls booked to receivables, corrections, refunds and adjustments with the staff member,
the authorisation check, and the ledger_check command."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from apps.accounts.models import Role
from apps.billing.services import cdr_correct
from apps.wallets import ledger
from apps.wallets.management.commands.ledger_check import check_schema
from apps.wallets.models import JournalEntry, LedgerAccount, WalletSettings
from apps.wallets.selectors import balance_derived, wallet_authorization, wallet_authorization_for_id_tag
from apps.wallets.services import (
    wallet_adjust,
    wallet_debit_for_cdr,
    wallet_get_or_create,
    wallet_refund,
    wallet_topup_confirm,
)
from tests.wallets.conftest import priced_cdr

D = Decimal


@pytest.fixture
def staff(tenant_a, make_user):
    return make_user(tenant_a, role=Role.OPERATOR_ADMIN, email="cashier@alpha.example")


@pytest.fixture
def wallet(in_tenant_a, driver):
    return wallet_get_or_create(user=driver)


def balance(account):
    account.refresh_from_db()
    assert account.balance == balance_derived(account=account)
    return account.balance


@pytest.mark.django_db
def test_topup_is_balanced_and_idempotent_per_payment(wallet):
    first = wallet_topup_confirm(account=wallet, amount=D("20"), currency="EUR", payment_reference="pi_1")
    again = wallet_topup_confirm(account=wallet, amount=D("20"), currency="EUR", payment_reference="pi_1")
    assert first.pk == again.pk and balance(wallet) == D("20.00")
    assert sorted(ln.amount for ln in first.lines.all()) == [D("-20.00"), D("20.00")]
    clearing = LedgerAccount.objects.get(kind="gateway_clearing", currency="EUR")
    assert balance(clearing) == D("-20.00")
    assert check_schema() == []
    with pytest.raises(ValidationError):
        wallet_topup_confirm(account=wallet, amount=D("5"), currency="USD", payment_reference="pi_2")


@pytest.mark.django_db
def test_unbalanced_entries_are_refused(wallet):
    with pytest.raises(ledger.UnbalancedEntry), transaction.atomic():
        ledger.post(kind="adjustment", idempotency_key="x", lines=[(wallet, D("1"))])
    assert not JournalEntry.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_an_overdrawn_wallet(wallet):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=wallet.pk).update(balance=D("-0.01"))


@pytest.mark.django_db
def test_session_debit_once_per_cdr(wallet, charger, flat_tariff):
    wallet_topup_confirm(account=wallet, amount=D("20"), currency="EUR", payment_reference="pi_1")
    cdr = priced_cdr(charger, kwh=10)
    assert cdr.total_cost_incl_vat == D("5.00")
    entry = wallet_debit_for_cdr(cdr=cdr)
    assert wallet_debit_for_cdr(cdr=cdr).pk == entry.pk
    assert entry.kind == "session_debit" and entry.cdr == cdr and entry.transaction_id == cdr.transaction_id
    assert balance(wallet) == D("15.00")
    assert balance(LedgerAccount.objects.get(kind="revenue")) == D("5.00")
    assert check_schema() == []


@pytest.mark.django_db
def test_a_cost_above_the_balance_empties_the_wallet_and_books_the_shortfall(wallet, charger, flat_tariff):
    wallet_topup_confirm(account=wallet, amount=D("3"), currency="EUR", payment_reference="pi_1")
    entry = wallet_debit_for_cdr(cdr=priced_cdr(charger, kwh=10))
    assert entry.shortfall == D("2.00") and balance(wallet) == D("0.00")
    assert balance(LedgerAccount.objects.get(kind="receivables")) == D("-2.00")
    assert balance(LedgerAccount.objects.get(kind="revenue")) == D("5.00")
    assert check_schema() == []


@pytest.mark.django_db
def test_correction_charges_only_the_difference(wallet, charger, flat_tariff):
    wallet_topup_confirm(account=wallet, amount=D("20"), currency="EUR", payment_reference="pi_1")
    cdr = priced_cdr(charger, kwh=10)
    wallet_debit_for_cdr(cdr=cdr)
    corrected = cdr_correct(cdr=cdr, reason="wrong tariff", tariff=None)  # unpriced: 0
    credit = wallet_debit_for_cdr(cdr=corrected)
    assert credit.kind == "session_credit" and balance(wallet) == D("20.00")
    assert balance(LedgerAccount.objects.get(kind="revenue")) == D("0.00")


@pytest.mark.django_db
def test_driver_without_wallet_is_not_debited(in_tenant_a, charger, driver, flat_tariff):
    assert wallet_debit_for_cdr(cdr=priced_cdr(charger, kwh=10)) is None


@pytest.mark.django_db
def test_refund_and_adjustment_record_the_staff_member(wallet, staff, driver):
    refund = wallet_refund(account=wallet, amount=D("2.5"), reason="connector fault", user=staff)
    adjust = wallet_adjust(account=wallet, amount=D("-1"), reason="duplicate refund", user=staff)
    assert (refund.created_by, adjust.created_by) == (staff, staff)
    assert balance(wallet) == D("1.50")
    with pytest.raises(ValidationError):
        wallet_adjust(account=wallet, amount=D("-5"), reason="too much", user=staff)
    with pytest.raises(PermissionDenied):
        wallet_adjust(account=wallet, amount=D("5"), reason="self-service", user=driver)
    with pytest.raises(ValidationError):
        wallet_refund(account=wallet, amount=D("5"), reason=" ", user=staff)
    assert balance(wallet) == D("1.50") and check_schema() == []


@pytest.mark.django_db
def test_authorisation_needs_the_minimum_balance(wallet, driver):
    WalletSettings.objects.create(min_start_balance=D("5"))
    assert wallet_authorization(user=driver).reason == "balance below minimum"
    wallet_topup_confirm(account=wallet, amount=D("5"), currency="EUR", payment_reference="pi_1")
    result = wallet_authorization_for_id_tag(id_tag="card-dora")  # CiString: case-insensitive
    assert result.allowed and result.available == D("5.00")
    assert wallet_authorization_for_id_tag(id_tag="UNKNOWN").allowed is False


@pytest.mark.django_db
def test_ledger_check_command_reports_a_tampered_balance(wallet, capsys):
    wallet_topup_confirm(account=wallet, amount=D("7"), currency="EUR", payment_reference="pi_1")
    call_command("ledger_check", "org_alpha")
    assert "balanced" in capsys.readouterr().out
    LedgerAccount.objects.filter(pk=wallet.pk).update(balance=D("8"))
    with pytest.raises(CommandError, match="caches 8"):
        call_command("ledger_check", "org_alpha")


@pytest.mark.django_db
def test_session_is_stopped_when_its_running_cost_reaches_the_balance(wallet, driver):
    from apps.wallets.selectors import wallet_should_stop

    wallet_topup_confirm(account=wallet, amount=D("6"), currency="EUR", payment_reference="pi_1")
    assert not wallet_should_stop(user=driver, running_cost=D("5.99"))
    assert wallet_should_stop(user=driver, running_cost=D("6.00"))
    WalletSettings.objects.create(stop_when_exhausted=False)
    assert not wallet_should_stop(user=driver, running_cost=D("60"))
