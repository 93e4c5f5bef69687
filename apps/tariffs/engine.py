"""Pricing engine: a session plus a tariff in, OCPI-CDR-style charging periods and totals out.

Pure computation: no ORM, no settings, no clock. Inputs are the dataclasses of
`apps.tariffs.domain` (Tariff; Session with optional MeterSamples); the cutting of the
session into intervals lives in `apps.tariffs.timeline`.

How a session is priced (OCPI 2.2.1 Tariffs module and CDR "step_size" section):

* The session is cut into intervals between meter samples; an interval is *charging*
  when its average power is above `idle_power_threshold_kw` and it lies before
  `charging_end`, otherwise *parking*. Without samples, `energy_wh` flows evenly from
  `start` to `charging_end` (default: `end`). A session that delivers no energy is
  parking from its first second.
* Intervals are cut again wherever a restriction can change: local times of day in
  `time_zone` (incl. midnight, so windows like 22:00-06:00 and day-of-week work), date
  limits, min/max duration, the instant the delivered energy crosses min/max kWh
  (interpolated), and the end of the idle-fee grace period. Power and current are
  those of the meter interval (reported, else the average; current = power / phase
  voltage, summed over phases, when not reported). Restrictions are re-evaluated at
  the start of every piece: min_* inclusive, max_* exclusive, end_time/end_date
  exclusive.
* Per dimension the first element (in order) with a price component of that type
  whose restrictions all match is used (OCPI). Elements with a `reservation`
  restriction price only the reservation (TIME = reserved time, FLAT); for an
  expired reservation RESERVATION_EXPIRES elements come first.
* FLAT is charged once per session (and once per reservation): the first piece in
  which an element with a FLAT component matches.
* step_size is applied once per session and dimension on the session *total*, with the
  step of the price component that priced the *last* period of that dimension; the
  rounding difference is billed in that last period. TIME and PARKING_TIME share one
  rounding: when parking is billed only the parking total is rounded, otherwise the
  charging time (OCPI CDR module: "not taken into account when switching from
  charging to parking"). Reservation time is rounded on its own.
  Note: two worked examples in the 2.2.1 Tariffs module (step-size switch #1 and the
  switch to a free element) instead round charging + parking together; they contradict
  the CDR module's normative text and the module's own complex example, which this
  engine follows. tests/tariffs/test_engine_ocpi_examples.py shows both figures.
* Idle fee (EVzone extension): price per hour of parking after `grace_minutes` from the
  end of charging, per second, reported as a PARKING_TIME line with source "idle_fee".
* VAT per component: incl = excl x (1 + vat/100); no VAT given means none applies.
* min_price / max_price bound the excl. and incl. VAT totals independently (OCPI note).

Rounding rule (one, everywhere): every intermediate figure is an exact rational
number (`fractions.Fraction`; Decimal inputs convert exactly), nothing is rounded per
period; only the two totals are rounded, once, at the end, to the currency's minor
unit from ISO 4217 via babel (EUR 2, JPY 0, KWD/BHD 3) with ROUND_HALF_UP
(`apps.core.money.quantize`). Period figures are shown with 12 decimals at most.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apps.core.money import quantize
from apps.tariffs.domain import (  # noqa: F401  (MeterSample, Session: the engine's input, re-exported)
    DAYS_OF_WEEK,
    Element,
    MeterSample,
    PriceComponent,
    PricingError,
    Restrictions,
    Session,
    Tariff,
)
from apps.tariffs.timeline import Interval, boundaries, energy_cuts, meter_intervals, to_seconds

MAX_SESSION = dt.timedelta(days=31)


@dataclass
class Line:
    type: str  # ENERGY | TIME | PARKING_TIME | FLAT | RESERVATION_TIME
    volume: Fraction  # kWh, hours or 1 (FLAT)
    component: PriceComponent | None
    element_index: int | None
    source: str = "tariff"  # or "idle_fee"
    billed: Fraction | None = None

    @property
    def billed_volume(self) -> Fraction:
        return self.volume if self.billed is None else self.billed

    @property
    def excl_vat(self) -> Fraction:
        return self.billed_volume * Fraction(self.component.price) if self.component else Fraction(0)

    @property
    def incl_vat(self) -> Fraction:
        vat = self.component.vat if self.component else None
        return self.excl_vat * (1 + Fraction(vat) / 100) if vat is not None else self.excl_vat


@dataclass
class Period:
    start: dt.datetime
    end: dt.datetime
    kind: str  # CHARGING | PARKING | RESERVATION
    lines: list[Line] = field(default_factory=list)


@dataclass
class Result:
    currency: str
    periods: list[Period]
    exact_excl_vat: Fraction
    exact_incl_vat: Fraction
    total_excl_vat: Decimal
    total_incl_vat: Decimal
    tariff_id: str = ""
    min_price_applied: bool = False
    max_price_applied: bool = False
    warnings: list[str] = field(default_factory=list)

    def total_volume(self, line_type: str, billed: bool = False) -> Fraction:
        return sum(
            (ln.billed_volume if billed else ln.volume)
            for p in self.periods
            for ln in p.lines
            if ln.type == line_type and ln.source == "tariff"
        ) or Fraction(0)


# --------------------------------------------------------------------------- restrictions


@dataclass(frozen=True)
class _Context:
    local: dt.datetime
    seconds: Fraction  # since session (or reservation) start
    wh: Fraction  # delivered so far
    power_kw: Fraction
    current_a: Fraction


def _in_window(value: Fraction, low, high) -> bool:
    return (low is None or value >= Fraction(low)) and (high is None or value < Fraction(high))


def _in_time_of_day(t: dt.time, start: dt.time | None, end: dt.time | None) -> bool:
    if start is not None and end is not None and start > end:  # wraps past midnight
        return t >= start or t < end
    if start is not None and end is not None and start == end:
        return True
    return (start is None or t >= start) and (end is None or end == dt.time(0) or t < end)


def matches(r: Restrictions | None, ctx: _Context) -> bool:
    if r is None:
        return True
    day = ctx.local.date()
    return (
        (r.start_date is None or day >= r.start_date)
        and (r.end_date is None or day < r.end_date)
        and (not r.day_of_week or DAYS_OF_WEEK[ctx.local.weekday()] in r.day_of_week)
        and _in_time_of_day(ctx.local.time().replace(tzinfo=None), r.start_time, r.end_time)
        and _in_window(ctx.wh / 1000, r.min_kwh, r.max_kwh)
        and _in_window(ctx.power_kw, r.min_power, r.max_power)
        and _in_window(ctx.current_a, r.min_current, r.max_current)
        and _in_window(ctx.seconds, r.min_duration, r.max_duration)
    )


def _candidates(tariff: Tariff, kind: str, expired: bool) -> list[tuple[int, Element]]:
    indexed = list(enumerate(tariff.elements))
    if kind != "RESERVATION":
        return [(i, e) for i, e in indexed if not (e.restrictions and e.restrictions.reservation)]
    kinds = ("RESERVATION_EXPIRES", "RESERVATION") if expired else ("RESERVATION",)
    return [(i, e) for k in kinds for i, e in indexed if e.restrictions and e.restrictions.reservation == k]


def _active(cands, dimension: str, ctx: _Context) -> tuple[int, PriceComponent] | None:
    for index, element in cands:
        component = next((pc for pc in element.price_components if pc.type == dimension), None)
        if component is not None and matches(element.restrictions, ctx):
            return index, component
    return None


# --------------------------------------------------------------------------- pricing


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PricingError(f"{name!r} is not an IANA time zone.") from exc


def _validate(s: Session) -> None:
    moments = [s.start, s.end, s.charging_end, s.reservation_start, *(m.timestamp for m in s.samples)]
    if any(m is not None and m.tzinfo is None for m in moments):
        raise PricingError("Times must carry a UTC offset.")
    if s.end < s.start:
        raise PricingError("The session ends before it starts.")
    if s.end - s.start > MAX_SESSION:
        raise PricingError("Sessions longer than 31 days are not priced.")
    if s.charging_end is not None and not s.start <= s.charging_end <= s.end:
        raise PricingError("Charging must end within the session.")
    if s.reservation_start is not None and s.reservation_start > s.start:
        raise PricingError("A reservation starts before its session.")
    if s.energy_wh is not None and s.energy_wh < 0:
        raise PricingError("Energy cannot be negative.")


def _signature(period: Period) -> tuple:
    return (period.kind, tuple((ln.type, ln.element_index, ln.source) for ln in period.lines if ln.type != "FLAT"))


def _apply_step(lines: list[Line], unit: int) -> None:
    """Round the session total of `lines` up to the step of the last one; bill the difference there."""
    if not lines or not lines[-1].component or not lines[-1].component.step_size:
        return
    step = Fraction(lines[-1].component.step_size, unit)
    total = sum(ln.volume for ln in lines)
    rounded = math.ceil(total / step) * step
    lines[-1].billed = lines[-1].volume + (rounded - total)


def to_decimal(value: Fraction, places: int | None = None) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        result = Decimal(value.numerator) / Decimal(value.denominator)
        if places is not None:
            result = result.quantize(Decimal(1).scaleb(-places)).normalize()
    return result


def _in_utc(s: Session) -> Session:
    # Python subtracts two datetimes sharing one tzinfo by wall clock (a DST night would last
    # 2 hours instead of 1); in UTC every difference is elapsed time.
    def utc(moment):
        return None if moment is None else moment.astimezone(dt.UTC)

    return replace(
        s,
        start=utc(s.start),
        end=utc(s.end),
        charging_end=utc(s.charging_end),
        reservation_start=utc(s.reservation_start),
        samples=tuple(replace(m, timestamp=utc(m.timestamp)) for m in s.samples),
    )


def price_session(tariff: Tariff, s: Session) -> Result:
    _validate(s)
    s = _in_utc(s)
    zone = _zone(s.time_zone)
    origin = s.reservation_start or s.start
    end = s.start if s.reservation_expired else s.end
    session_offset = to_seconds(s.start - origin)
    intervals: list[Interval] = []
    if session_offset > 0:
        intervals.append(Interval(Fraction(0), session_offset, "RESERVATION", *(Fraction(0),) * 4))
    if not s.reservation_expired:
        intervals += meter_intervals(s, origin)
    charging_end = max((iv.b for iv in intervals if iv.kind == "CHARGING"), default=session_offset)
    idle_from = charging_end + 60 * tariff.idle_fee.grace_minutes if tariff.idle_fee else None
    extra = {iv.a for iv in intervals} | ({idle_from} if idle_from is not None else set())
    cuts = sorted(boundaries(tariff, s, origin, end, zone, extra) | energy_cuts(tariff, intervals))

    periods: list[Period] = []
    flat_done: set[str] = set()
    for iv in intervals:
        edges = [iv.a, *cuts[bisect_right(cuts, iv.a) : bisect_left(cuts, iv.b)], iv.b]
        for a, b in zip(edges, edges[1:], strict=False):
            period = _price_piece(tariff, s, iv, a, b, origin, zone, session_offset, idle_from, flat_done)
            last = periods[-1] if periods else None
            if last and not any(ln.type == "FLAT" for ln in period.lines) and _signature(last) == _signature(period):
                for mine, theirs in zip((ln for ln in last.lines if ln.type != "FLAT"), period.lines, strict=True):
                    mine.volume += theirs.volume
                last.end = period.end
            else:
                periods.append(period)
    if not periods:  # a zero-length session still owes its FLAT fee
        piece = Interval(Fraction(0), Fraction(0), "PARKING", *(Fraction(0),) * 4)
        periods.append(
            _price_piece(tariff, s, piece, Fraction(0), Fraction(0), origin, zone, session_offset, None, flat_done)
        )

    lines = [ln for p in periods for ln in p.lines if ln.source == "tariff" and ln.component is not None]
    _apply_step([ln for ln in lines if ln.type == "ENERGY"], 1000)
    parking = [ln for ln in lines if ln.type == "PARKING_TIME"]
    _apply_step(parking or [ln for ln in lines if ln.type == "TIME"], 3600)
    _apply_step([ln for ln in lines if ln.type == "RESERVATION_TIME"], 3600)

    all_lines = [ln for p in periods for ln in p.lines]
    excl = sum((ln.excl_vat for ln in all_lines), Fraction(0))
    incl = sum((ln.incl_vat for ln in all_lines), Fraction(0))
    result = Result(tariff.currency, periods, excl, incl, Decimal(0), Decimal(0), tariff_id=tariff.id)
    if tariff.min_price:
        if excl < Fraction(tariff.min_price.excl_vat):
            result.exact_excl_vat, result.min_price_applied = Fraction(tariff.min_price.excl_vat), True
        if tariff.min_price.incl_vat is not None and incl < Fraction(tariff.min_price.incl_vat):
            result.exact_incl_vat, result.min_price_applied = Fraction(tariff.min_price.incl_vat), True
    if tariff.max_price:
        if result.exact_excl_vat > Fraction(tariff.max_price.excl_vat):
            result.exact_excl_vat, result.max_price_applied = Fraction(tariff.max_price.excl_vat), True
        if tariff.max_price.incl_vat is not None and result.exact_incl_vat > Fraction(tariff.max_price.incl_vat):
            result.exact_incl_vat, result.max_price_applied = Fraction(tariff.max_price.incl_vat), True
    # The one rounding step of the whole computation.
    result.total_excl_vat = quantize(to_decimal(result.exact_excl_vat), tariff.currency)
    result.total_incl_vat = quantize(to_decimal(result.exact_incl_vat), tariff.currency)
    if tariff.start_date_time and s.start < tariff.start_date_time:
        result.warnings.append("The tariff is not yet active at the session start.")
    if tariff.end_date_time and s.start >= tariff.end_date_time:
        result.warnings.append("The tariff has expired before the session start.")
    return result


def _price_piece(tariff, s, iv, a, b, origin, zone, session_offset, idle_from, flat_done) -> Period:
    start = origin + dt.timedelta(microseconds=math.floor(a * 1_000_000))
    end = origin + dt.timedelta(microseconds=math.floor(b * 1_000_000))
    reservation = iv.kind == "RESERVATION"
    wh_a = iv.wh_at(a)
    ctx = _Context(
        local=start.astimezone(zone),
        seconds=a if reservation else a - session_offset,
        wh=wh_a,
        power_kw=iv.power_kw,
        current_a=iv.current_a,
    )
    cands = _candidates(tariff, iv.kind, s.reservation_expired)
    hours = (b - a) / 3600
    period = Period(start, end, iv.kind)

    def add(line_type: str, dimension: str, volume: Fraction) -> None:
        # Unpriced volumes are listed too (component None): a CDR reports them all.
        found = _active(cands, dimension, ctx)
        period.lines.append(Line(line_type, volume, *(found[::-1] if found else (None, None))))

    group = "reservation" if reservation else "session"
    if group not in flat_done:
        found = _active(cands, "FLAT", ctx)
        if found:
            period.lines.append(Line("FLAT", Fraction(1), found[1], found[0]))
            flat_done.add(group)
    if reservation:
        add("RESERVATION_TIME", "TIME", hours)
        return period
    energy = iv.wh_at(b) - wh_a
    if energy > 0:
        add("ENERGY", "ENERGY", energy / 1000)
    if iv.kind == "CHARGING":
        add("TIME", "TIME", hours)
    elif b > a:
        add("PARKING_TIME", "PARKING_TIME", hours)
        if tariff.idle_fee and idle_from is not None and a >= idle_from:
            fee = tariff.idle_fee
            component = PriceComponent("PARKING_TIME", fee.price_per_hour, 0, fee.vat)
            period.lines.append(Line("PARKING_TIME", hours, component, None, source="idle_fee"))
    return period
