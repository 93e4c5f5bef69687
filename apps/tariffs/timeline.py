"""The pricing engine's time line: a session cut into charging, parking and reservation
intervals, and the instants where a tariff restriction can change inside them.

All times are offsets in seconds (exact `Fraction`s) from the start of the span being
priced (the reservation start, else the session start); energy in Wh, also exact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from apps.tariffs.domain import PricingError, Session, Tariff

_MICRO = dt.timedelta(microseconds=1)


@dataclass
class Interval:
    a: Fraction  # seconds from the span origin
    b: Fraction
    kind: str
    wh_a: Fraction
    wh_b: Fraction
    power_kw: Fraction
    current_a: Fraction

    def wh_at(self, t: Fraction) -> Fraction:
        if self.b == self.a:
            return self.wh_a
        return self.wh_a + (self.wh_b - self.wh_a) * (t - self.a) / (self.b - self.a)


def to_seconds(delta: dt.timedelta) -> Fraction:
    return Fraction(delta // _MICRO, 1_000_000)


def _frac(value) -> Fraction | None:
    return None if value is None else Fraction(value)


def meter_intervals(s: Session, origin: dt.datetime) -> list[Interval]:
    """Charging/parking intervals of the session, on a time axis in seconds from `origin`."""
    if s.samples:
        samples = sorted(s.samples, key=lambda m: m.timestamp)
        if any(m.timestamp < s.start or m.timestamp > s.end for m in samples):
            raise PricingError("Meter samples must lie between the session start and end.")
        # A sample at the very start is the meter's start value: energy counts from there.
        offset = Fraction(samples[0].energy_wh) if samples[0].timestamp == s.start else Fraction(0)
        points = [(m.timestamp, Fraction(m.energy_wh) - offset, _frac(m.power_kw), _frac(m.current_a)) for m in samples]
        if points[0][0] > s.start:
            points.insert(0, (s.start, Fraction(0), None, None))
        if points[-1][0] < s.end:
            points.append((s.end, points[-1][1], Fraction(0), Fraction(0)))
    else:
        charging_end = s.charging_end or s.end
        wh = Fraction(s.energy_wh or 0)
        points = [(s.start, Fraction(0), None, None), (charging_end, wh, _frac(s.power_kw), _frac(s.current_a))]
        if charging_end < s.end:
            points.append((s.end, wh, Fraction(0), Fraction(0)))
    cut = s.charging_end
    if cut and s.start < cut < s.end and all(p[0] != cut for p in points):
        # Split the meter interval that contains the end of charging (energy interpolated).
        for i in range(1, len(points)):
            (t0, e0, *_), (t1, e1, pw, cur) = points[i - 1], points[i]
            if t0 < cut < t1:
                share = to_seconds(cut - t0) / to_seconds(t1 - t0)
                points.insert(i, (cut, e0 + (e1 - e0) * share, pw, cur))
                break
    intervals = []
    for (t0, e0, _, _), (t1, e1, power, current) in zip(points, points[1:], strict=False):
        if e1 < e0:
            raise PricingError("Meter energy must not decrease.")
        length = to_seconds(t1 - t0)
        if length == 0:
            continue
        average_kw = (e1 - e0) / 1000 / (length / 3600)
        charging = average_kw > Fraction(s.idle_power_threshold_kw) and (cut is None or t1 <= cut)
        if not charging and not s.samples:
            power = None  # the session-level power describes charging only
        power = power if power is not None else (average_kw if charging else Fraction(0))
        current = current if current is not None else power * 1000 / Fraction(s.phase_voltage)
        a = to_seconds(t0 - origin)
        intervals.append(Interval(a, a + length, "CHARGING" if charging else "PARKING", e0, e1, power, current))
    return intervals


def boundaries(tariff: Tariff, s: Session, origin: dt.datetime, end: dt.datetime, zone, extra) -> set[Fraction]:
    restrictions = [e.restrictions for e in tariff.elements if e.restrictions]
    times = {dt.time(0)} | {t for r in restrictions for t in (r.start_time, r.end_time) if t is not None}
    span = to_seconds(end - origin)
    cuts = set(extra)
    day = origin.astimezone(zone).date() - dt.timedelta(days=1)
    while day <= end.astimezone(zone).date() + dt.timedelta(days=1):
        for t in times:
            cuts.add(to_seconds(dt.datetime.combine(day, t, tzinfo=zone) - origin))
        day += dt.timedelta(days=1)
    session_offset = to_seconds(s.start - origin)
    for r in restrictions:
        for limit in (r.min_duration, r.max_duration):
            if limit is not None:
                cuts.add(session_offset + limit)
    return {c for c in cuts if 0 < c < span}


def energy_cuts(tariff: Tariff, intervals: list[Interval]) -> set[Fraction]:
    limits = {
        Fraction(k) * 1000
        for e in tariff.elements
        if e.restrictions
        for k in (e.restrictions.min_kwh, e.restrictions.max_kwh)
        if k is not None
    }
    cuts = set()
    for iv in intervals:
        for wh in limits:
            if iv.wh_a < wh < iv.wh_b:
                cuts.add(iv.a + (wh - iv.wh_a) / (iv.wh_b - iv.wh_a) * (iv.b - iv.a))
    return cuts
