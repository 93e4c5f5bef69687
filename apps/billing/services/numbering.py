"""Gapless document numbers per organisation: INV-2026-000001, CN-2026-000001."""

from django.db import connection

from apps.billing.models import NumberSeries

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def number_next(*, series: str, year: int) -> str:
    """The next number of `series` in `year`. Must run inside the transaction that stores the
    document: the counter row stays locked until it commits, and a rollback gives the number back."""
    if not connection.in_atomic_block:
        raise RuntimeError("number_next() must run inside the transaction that uses the number.")
    # The first document of a year creates the row; a concurrent creator's insert is a no-op.
    NumberSeries.objects.bulk_create([NumberSeries(series=series, year=year)], ignore_conflicts=True)
    counter = NumberSeries.objects.select_for_update().get(series=series, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{series}-{year}-{counter.last_number:06d}"
