"""Currency conversion with ECB reference rates (cross rates through EUR)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from apps.core.money import quantize
from apps.fx.models import BASE_CURRENCY, ExchangeRate
from apps.fx.services import exchange_rates_ensure

# Cross rates are recorded (and applied) with this many decimals, so that a converted
# amount can be re-computed by hand from the figures stored next to it.
RATE_PLACES = 10


class RateUnavailable(LookupError):
    """No ECB rate for this currency (the ECB publishes about 30 currencies)."""


@dataclass(frozen=True)
class Conversion:
    amount: Decimal  # in `currency`, rounded to its minor unit
    currency: str
    rate: Decimal  # units of `currency` per unit of `source_currency`
    rate_date: dt.date  # the ECB publication day the rate comes from
    source_amount: Decimal
    source_currency: str


def _rates_on(currencies: set[str], on_date: dt.date) -> tuple[dict[str, Decimal], dt.date]:
    """The rates of the latest ECB day on or before `on_date` that has every currency asked for
    (weekends and TARGET holidays have no publication). Before the first stored day, the
    earliest day is used: its date is recorded, so the choice stays visible."""
    if not currencies:
        return {}, on_date

    # A fresh install converts with the shipped snapshot rather than failing.
    exchange_rates_ensure()
    for older in (True, False):
        rows = ExchangeRate.objects.filter(currency__in=currencies)
        rows = rows.filter(date__lte=on_date).order_by("-date") if older else rows.order_by("date")
        by_day: dict[dt.date, dict[str, Decimal]] = {}
        for row in rows.only("date", "currency", "rate")[: 40 * len(currencies)]:
            day = by_day.setdefault(row.date, {})
            day[row.currency] = row.rate
            if len(day) == len(currencies):
                return day, row.date
    missing = currencies - set(ExchangeRate.objects.filter(currency__in=currencies).values_list("currency", flat=True))
    raise RateUnavailable(f"No ECB reference rate for {', '.join(sorted(missing)) or ', '.join(sorted(currencies))}.")


def exchange_rate(from_currency: str, to_currency: str, on_date: dt.date) -> tuple[Decimal, dt.date]:
    """Units of `to_currency` per unit of `from_currency`, and the ECB day it comes from."""
    if from_currency == to_currency:
        return Decimal(1), on_date
    rates, day = _rates_on({from_currency, to_currency} - {BASE_CURRENCY}, on_date)
    per_eur = {BASE_CURRENCY: Decimal(1), **rates}
    cross = per_eur[to_currency] / per_eur[from_currency]
    return cross.quantize(Decimal(1).scaleb(-RATE_PLACES), rounding=ROUND_HALF_UP), day


def convert(amount: Decimal, from_currency: str, to_currency: str, on_date: dt.date) -> Conversion:
    """`amount` in `to_currency` = amount x recorded rate, rounded half up to the currency's minor unit."""
    rate, day = exchange_rate(from_currency, to_currency, on_date)
    return Conversion(
        amount=quantize(Decimal(amount) * rate, to_currency),
        currency=to_currency,
        rate=rate,
        rate_date=day,
        source_amount=Decimal(amount),
        source_currency=from_currency,
    )
