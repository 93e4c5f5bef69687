"""Installed charging profiles and the limit they impose (OCPP 1.6 section 3.13, simplified).

Profiles arrive snake_cased by the ocpp library (charging_profile_id, charging_schedule, ...).
Simplifications, stated so nobody relies on them: recurrency restarts the schedule daily or
weekly from start_schedule, and the composite schedule is the governing profile's periods
(highest stack level of TxProfile over TxDefaultProfile) capped by ChargePointMaxProfile.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.simulator.state import parse_iso

VOLTS_3PH = 3 * 230.0


def _to_w(limit: float, unit: str, phases: int | None) -> float:
    if unit == "W":
        return float(limit)
    return float(limit) * 230.0 * (phases or 3)


class ProfileStore:
    def __init__(self) -> None:
        # (connector_id, profile) in installation order
        self.items: list[tuple[int, dict]] = []

    def install(self, connector_id: int, profile: dict) -> None:
        purpose, level = profile["charging_profile_purpose"], profile["stack_level"]
        self.items = [
            (c, p)
            for c, p in self.items
            if p["charging_profile_id"] != profile["charging_profile_id"]
            and not (c == connector_id and p["charging_profile_purpose"] == purpose and p["stack_level"] == level)
        ]
        self.items.append((connector_id, profile))

    def clear(self, *, id=None, connector_id=None, purpose=None, stack_level=None) -> bool:
        def matches(c: int, p: dict) -> bool:
            if id is not None:
                return p["charging_profile_id"] == id
            return (
                (connector_id is None or c == connector_id)
                and (purpose is None or p["charging_profile_purpose"] == purpose)
                and (stack_level is None or p["stack_level"] == stack_level)
            )

        kept = [(c, p) for c, p in self.items if not matches(c, p)]
        removed = len(kept) != len(self.items)
        self.items = kept
        return removed

    def clear_tx_profiles(self, connector_id: int) -> None:
        # A TxProfile lives only as long as its transaction (section 3.13.2).
        self.items = [
            (c, p) for c, p in self.items if not (c == connector_id and p["charging_profile_purpose"] == "TxProfile")
        ]

    def _governing(self, connector_id: int, purpose: str) -> dict | None:
        candidates = [p for c, p in self.items if p["charging_profile_purpose"] == purpose and c in (0, connector_id)]
        return max(candidates, key=lambda p: p["stack_level"], default=None)

    def _period_at(self, profile: dict, at: datetime, tx_start: datetime | None) -> tuple[float, datetime] | None:
        schedule = profile["charging_schedule"]
        kind = profile.get("charging_profile_kind", "Absolute")
        if kind == "Relative":
            origin = tx_start or at
        else:
            origin = parse_iso(schedule.get("start_schedule") or profile.get("valid_from") or at.isoformat())
            if kind == "Recurring" and origin <= at:
                step = timedelta(days=7 if profile.get("recurrency_kind") == "Weekly" else 1)
                origin += step * ((at - origin) // step)
        offset = (at - origin).total_seconds()
        duration = schedule.get("duration")
        if offset < 0 or (duration is not None and offset >= duration):
            return None
        current = None
        for period in sorted(schedule["charging_schedule_period"], key=lambda p: p["start_period"]):
            if period["start_period"] <= offset:
                current = period
        if current is None:
            return None
        watts = _to_w(current["limit"], schedule["charging_rate_unit"], current.get("number_phases"))
        return watts, origin

    def limit_w(self, connector_id: int, at: datetime, tx_start: datetime | None, has_tx: bool) -> float | None:
        limits = []
        tx_profile = self._governing(connector_id, "TxProfile") if has_tx else None
        for profile in (
            tx_profile or self._governing(connector_id, "TxDefaultProfile"),
            self._governing(connector_id, "ChargePointMaxProfile"),
        ):
            if profile is not None:
                found = self._period_at(profile, at, tx_start)
                if found is not None:
                    limits.append(found[0])
        return min(limits) if limits else None

    def composite(self, connector_id: int, duration: int, unit: str, now: datetime, max_w: float) -> dict:
        """Sample the effective limit at each period boundary within the window."""
        boundaries = {0}
        for c, p in self.items:
            if c in (0, connector_id):
                boundaries.update(pp["start_period"] for pp in p["charging_schedule"]["charging_schedule_period"])
        periods = []
        for start in sorted(b for b in boundaries if b < duration):
            watts = self.limit_w(connector_id, now + timedelta(seconds=start), now, True)
            watts = max_w if watts is None else min(watts, max_w)
            limit = watts if unit == "W" else watts / VOLTS_3PH
            if not periods or periods[-1]["limit"] != round(limit, 1):
                periods.append({"startPeriod": start, "limit": round(limit, 1)})
        return {"duration": duration, "chargingRateUnit": unit, "chargingSchedulePeriod": periods}
