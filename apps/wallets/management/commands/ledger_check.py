"""Prove the wallet ledger balances, in every organisation (or those named):

1. all lines sum to zero per currency (no money created or lost),
2. every journal entry sums to zero per currency,
3. each account's lines are in the account's currency,
4. every cached balance equals the sum of its account's lines, and no wallet is negative.

Exits with an error (status 1) listing what is wrong; prints progress per organisation.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q, Sum
from django_tenants.utils import get_tenant_model, schema_context

from apps.wallets.models import JournalEntry, JournalLine, LedgerAccount


def check_schema(write=lambda msg: None) -> list[str]:
    problems = []
    for row in JournalLine.objects.values("currency").annotate(total=Sum("amount"), n=Count("id")):
        write(f"  {row['n']} lines in {row['currency']}, sum {row['total']}")
        if row["total"] != 0:
            problems.append(f"lines in {row['currency']} sum to {row['total']}, not 0")
    unbalanced = (
        JournalEntry.objects.values("pk", "lines__currency")
        .annotate(total=Sum("lines__amount"))
        .exclude(total=0)
        .exclude(total__isnull=True)
    )
    for row in unbalanced:
        problems.append(f"entry {row['pk']} sums to {row['total']} {row['lines__currency']}")
    wrong_currency = JournalLine.objects.exclude(currency=F("account__currency")).count()
    if wrong_currency:
        problems.append(f"{wrong_currency} lines are not in their account's currency")
    accounts = LedgerAccount.objects.annotate(derived=Sum("lines__amount")).order_by("pk")
    total = accounts.count()
    for i, account in enumerate(accounts.iterator(chunk_size=1000), 1):
        derived = account.derived or 0
        if account.balance != derived:
            problems.append(f"account {account.pk} ({account}) caches {account.balance}, ledger says {derived}")
        if i % 1000 == 0 or i == total:
            write(f"  accounts checked: {i}/{total}")
    overdrawn = LedgerAccount.objects.filter(Q(kind__in=LedgerAccount.WALLET_KINDS), balance__lt=0).count()
    if overdrawn:
        problems.append(f"{overdrawn} wallets are overdrawn")
    return problems


class Command(BaseCommand):
    help = "Prove that the wallet ledger balances (per currency) and cached balances match the lines."

    def add_arguments(self, parser):
        parser.add_argument("schemas", nargs="*", help="schema names (default: every organisation)")

    def handle(self, *args, schemas, **options):
        orgs = get_tenant_model().objects.exclude(schema_name="public").order_by("schema_name")
        if schemas:
            orgs = orgs.filter(schema_name__in=schemas)
        all_problems = []
        orgs = list(orgs)
        for n, org in enumerate(orgs, 1):
            self.stdout.write(f"[{n}/{len(orgs)}] {org.schema_name}")
            with schema_context(org.schema_name):
                problems = check_schema(self.stdout.write)
            all_problems += [f"{org.schema_name}: {p}" for p in problems]
            self.stdout.write(self.style.SUCCESS("  balanced") if not problems else self.style.ERROR("  NOT balanced"))
        if all_problems:
            raise CommandError("Ledger check failed:\n" + "\n".join(all_problems))
        self.stdout.write(self.style.SUCCESS(f"Ledger balances in {len(orgs)} organisation(s)."))
