"""Parallel debits of one wallet never overdraw it. Real concurrency: committed rows in an
organisation of its own (dropped afterwards), threads each on their own connection, all
released at once by a barrier."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.chargers.services import charge_point_create
from apps.charging.services import id_token_create
from apps.tenants.models import Organization
from apps.tenants.services import organization_create
from apps.wallets.management.commands.ledger_check import check_schema
from apps.wallets.models import JournalEntry, LedgerAccount
from apps.wallets.services import wallet_debit_for_cdr, wallet_get_or_create, wallet_topup_confirm
from tests.factories.accounts import UserFactory
from tests.wallets.conftest import FLAT_TARIFF, import_tariff, in_thread, priced_cdr

SESSIONS = 12
THREADS = 8


@pytest.fixture
def race_org(db):
    def create():
        with schema_context("public"):
            return organization_create(
                name="Wallet Race",
                slug="wallet-race",
                admin_email="a@race.example",
                admin_password="correct-horse-battery-9",
            )

    org = in_thread("public", create)
    try:
        yield org
    finally:
        in_thread("public", lambda: Organization.objects.get(pk=org.pk).delete(force_drop=True))


def test_parallel_debits_never_overdraw(race_org):
    schema = race_org.schema_name

    def setup():
        driver = UserFactory(role="driver", email="racer@race.example")
        id_token_create(id_token="CARD-DORA", owner=driver)
        import_tariff(FLAT_TARIFF)
        cp = charge_point_create(identity="RACE-CP", password="r" * 20)
        wallet = wallet_get_or_create(user=driver)
        wallet_topup_confirm(account=wallet, amount=Decimal("20"), currency="EUR", payment_reference="pi_race")
        # 12 sessions of 6 kWh = 3.00 EUR each: 36.00 EUR of cost against 20.00 EUR.
        return wallet, [priced_cdr(cp, kwh=6, n=i) for i in range(SESSIONS)]

    wallet, cdrs = in_thread(schema, setup)
    start = threading.Barrier(THREADS)

    def debit(cdr):
        try:
            with schema_context(schema):
                start.wait(timeout=10)  # released in rounds of THREADS calls at once
                return wallet_debit_for_cdr(cdr=cdr).pk
        finally:
            connection.close()

    # Each CDR is debited twice, concurrently: the second call must find the first's entry.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        entries = list(pool.map(debit, cdrs + cdrs))
    assert len(set(entries)) == SESSIONS

    def totals():
        w = LedgerAccount.objects.get(pk=wallet.pk)
        debits = JournalEntry.objects.filter(kind="session_debit")
        shortfall = sum(e.shortfall for e in debits)
        return w.balance, debits.count(), shortfall, check_schema()

    balance, count, shortfall, problems = in_thread(schema, totals)
    assert balance == Decimal("0.00")
    assert count == SESSIONS
    assert shortfall == Decimal("16.00")  # 36.00 of cost, 20.00 paid from the wallet
    assert problems == []


def test_parallel_debits_from_several_processes(race_org):
    """The same race from separate processes (as from several Celery workers)."""
    import multiprocessing

    from django.conf import settings

    from tests.wallets._process_worker import debit_cdrs

    schema = race_org.schema_name

    def setup():
        driver = UserFactory(role="driver", email="proc@race.example")
        id_token_create(id_token="CARD-DORA", owner=driver)
        import_tariff(FLAT_TARIFF)
        cp = charge_point_create(identity="PROC-CP", password="p" * 20)
        wallet = wallet_get_or_create(user=driver)
        wallet_topup_confirm(account=wallet, amount=Decimal("10"), currency="EUR", payment_reference="pi_proc")
        return wallet, [priced_cdr(cp, kwh=2, n=i).pk for i in range(8)]  # 8 x 1.00 EUR

    wallet, cdr_ids = in_thread(schema, setup)
    ctx = multiprocessing.get_context("spawn")
    procs, barrier, results = 4, ctx.Barrier(4), ctx.Queue()
    db_name = settings.DATABASES["default"]["NAME"]
    # Every process debits every CDR: 32 attempts at 8 debits.
    workers = [ctx.Process(target=debit_cdrs, args=(db_name, schema, cdr_ids, barrier, results)) for _ in range(procs)]
    for w in workers:
        w.start()
    got = [results.get(timeout=120) for _ in range(procs * len(cdr_ids))]
    for w in workers:
        w.join(30)
    assert not [r for r in got if isinstance(r[1], str)], got
    assert len({pid for pid, _ in got}) == procs and len({entry for _, entry in got}) == len(cdr_ids)

    def totals():
        return LedgerAccount.objects.get(pk=wallet.pk).balance, check_schema()

    balance, problems = in_thread(schema, totals)
    assert balance == Decimal("2.00") and problems == []
