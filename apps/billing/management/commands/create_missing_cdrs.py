"""Create the CDRs (and receipts) of completed transactions that have none, in every
organisation or in one (--schema). Safe to re-run: creation is idempotent."""

from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, schema_context

from apps.billing.selectors import transactions_without_cdr
from apps.billing.services import cdr_create_for_transaction
from apps.tenants.models import Organization


class Command(BaseCommand):
    help = "Create charge detail records for completed transactions that lack one."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this organisation's schema.")
        parser.add_argument("--no-receipts", action="store_true", help="Do not issue and e-mail receipts.")

    def handle(self, *args, schema=None, no_receipts=False, **options):
        orgs = Organization.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name")
        if schema:
            orgs = orgs.filter(schema_name=schema)
        for org in orgs:
            with schema_context(org.schema_name):
                self._one(org.schema_name, issue_receipt=not no_receipts)

    def _one(self, schema: str, *, issue_receipt: bool) -> None:
        missing = transactions_without_cdr()
        total = missing.count()
        self.stdout.write(f"{schema}: {total} completed transactions without a CDR")
        created = failed = 0
        for done, tx in enumerate(missing.iterator(chunk_size=200), start=1):
            try:
                cdr_create_for_transaction(transaction=tx, issue_receipt=issue_receipt)
                created += 1
            except Exception as exc:  # one bad transaction must not stop the backfill
                failed += 1
                self.stderr.write(f"{schema}: transaction {tx.pk}: {exc}")
            if done % 100 == 0 or done == total:
                self.stdout.write(f"{schema}: {done}/{total}")
        self.stdout.write(f"{schema}: {created} created, {failed} failed")
