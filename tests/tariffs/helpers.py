"""Small builders for engine tests (no database)."""

import datetime as dt
import json
from decimal import Decimal

from apps.tariffs.domain import Tariff, tariff_from_ocpi
from apps.tariffs.engine import MeterSample, Result, Session, price_session, to_decimal


def ocpi(text: str, **overrides) -> Tariff:
    data = json.loads(text, parse_float=Decimal)
    data.update(overrides)
    return tariff_from_ocpi(data)


def at(text: str) -> dt.datetime:
    """'2025-03-03 09:30' in UTC unless an offset is given."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def session(
    start: str,
    charging_minutes: float,
    kwh="0",
    parking_minutes: float = 0,
    time_zone: str = "UTC",
    **kwargs,
) -> Session:
    begin = at(start)
    charging_end = begin + dt.timedelta(minutes=charging_minutes)
    return Session(
        start=begin,
        end=charging_end + dt.timedelta(minutes=parking_minutes),
        charging_end=charging_end,
        energy_wh=Decimal(str(kwh)) * 1000,
        time_zone=time_zone,
        **kwargs,
    )


def samples(start: str, *steps) -> tuple[MeterSample, ...]:
    """samples('2025-01-01 10:00', (minutes, kwh_cumulative[, power_kw[, current_a]]), ...)."""
    begin = at(start)
    out = []
    for minutes, kwh, *rest in steps:
        power = Decimal(str(rest[0])) if rest and rest[0] is not None else None
        current = Decimal(str(rest[1])) if len(rest) > 1 else None
        out.append(MeterSample(begin + dt.timedelta(minutes=minutes), Decimal(str(kwh)) * 1000, power, current))
    return tuple(out)


def price(tariff: Tariff, s: Session) -> Result:
    return price_session(tariff, s)


def totals(result: Result) -> tuple[str, str]:
    return str(result.total_excl_vat), str(result.total_incl_vat)


def exact(result: Result) -> tuple[Decimal, Decimal]:
    return to_decimal(result.exact_excl_vat).normalize(), to_decimal(result.exact_incl_vat).normalize()


def billed(result: Result, line_type: str, unit: int = 1) -> list[Decimal]:
    """Billed volume per line of a type, in minutes (unit=60) / kWh (unit=1)."""
    return [
        to_decimal(ln.billed_volume * unit, 6)
        for p in result.periods
        for ln in p.lines
        if ln.type == line_type and ln.source == "tariff" and ln.component is not None
    ]


def elements(result: Result) -> list[int]:
    """Index of the tariff element behind every priced line, in time order."""
    return [ln.element_index for p in result.periods for ln in p.lines if ln.component is not None]
