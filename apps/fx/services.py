"""Writes for exchange rates: store a parsed feed idempotently, load the shipped snapshot, fetch the ECB feed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.fx import ecb
from apps.fx.models import ExchangeRate

log = logging.getLogger(__name__)
# A real ECB daily file (format and currencies); refresh it now and then so that a fresh,
# offline install converts with recent figures. Only used while the table is empty.
SNAPSHOT = Path(__file__).resolve().parent / "data" / "eurofxref-daily.xml"


@dataclass(frozen=True)
class StoreResult:
    created: int
    updated: int
    unchanged: int


@transaction.atomic
def exchange_rates_store(*, rates: Iterable[ecb.Rate], source: str = ExchangeRate.Source.ECB) -> StoreResult:
    """Insert new (date, currency) rates; a re-run of the same feed changes nothing. A rate the
    ECB republished with another value is updated (amounts already converted keep the rate
    they recorded)."""
    rates = list(rates)
    # Lock out a concurrent run for the same days (beat retry + manual run) before comparing.
    existing = {
        (r.date, r.currency): r
        for r in ExchangeRate.objects.select_for_update().filter(date__in={r.date for r in rates})
    }
    new, changed, unchanged = [], [], 0
    now = timezone.now()
    for item in rates:
        row = existing.get((item.date, item.currency))
        if row is None:
            new.append(
                ExchangeRate(date=item.date, currency=item.currency, rate=item.rate, source=source, fetched_at=now)
            )
        elif row.rate != item.rate:
            row.rate, row.source, row.fetched_at = item.rate, source, now
            changed.append(row)
        else:
            unchanged += 1
    # ignore_conflicts: a concurrent first insert of the same day is the same data.
    ExchangeRate.objects.bulk_create(new, ignore_conflicts=True)
    ExchangeRate.objects.bulk_update(changed, ["rate", "source", "fetched_at"])
    return StoreResult(created=len(new), updated=len(changed), unchanged=unchanged)


def exchange_rates_ensure() -> bool:
    """Load the shipped snapshot when no rate exists at all (fresh, possibly offline install)."""
    if ExchangeRate.objects.exists():
        return False
    exchange_rates_store(rates=ecb.parse_ecb_xml(SNAPSHOT.read_bytes()), source=ExchangeRate.Source.SNAPSHOT)
    return True


def exchange_rates_fetch_ecb(*, fetch: Callable[[], bytes] | None = None) -> StoreResult | None:
    """Download and store today's ECB rates. Any failure (network, a malformed answer) is logged
    and the last stored rates stay in use; `fetch` is the seam tests feed XML through."""
    try:
        content = (fetch or ecb.download)()
        rates = ecb.parse_ecb_xml(content)
    except (OSError, ecb.FeedError) as exc:  # URLError and timeouts are OSErrors
        log.warning("ECB exchange rates not updated, keeping the last ones: %s", exc)
        exchange_rates_ensure()
        return None
    result = exchange_rates_store(rates=rates, source=ExchangeRate.Source.ECB)
    log.info("ECB exchange rates for %s: %s", sorted({r.date for r in rates})[-1], result)
    return result
