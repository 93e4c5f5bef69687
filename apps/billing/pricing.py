"""From a stored transaction to the pricing engine's input, and from its result to CDR figures.

Reads only. Energy comes from the transaction's Energy.Active.Import.Register readings
(Wh or kWh; the total over phases, else the sum of the phases), anchored by the start and
stop meter readings, which are authoritative for the total. Without intermediate readings
the engine spreads the energy evenly over the session (a charger that reports only at the end).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from apps.charging.models import MeterValue, Transaction
from apps.core.money import quantize
from apps.tariffs.engine import MeterSample, Result, Session, to_decimal
from apps.tariffs.ocpi import format_datetime, number

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
# Readings measured at the vehicle side (EV, Inlet) describe what the car got, not what was sold.
SOLD_LOCATIONS = ("", "Outlet", "Body", "Cable")
# To Wh (energy) and kW (power). apps.charging stores "Wh" when a charger gave no unit, also for
# power readings, where it then means the OCPP default for power: W.
UNITS = {
    ENERGY: {"Wh": Decimal(1), "kWh": Decimal(1000), "": Decimal(1)},
    POWER: {"W": Decimal("0.001"), "Wh": Decimal("0.001"), "kW": Decimal(1), "": Decimal("0.001")},
}


def _readings(tx: Transaction, measurand: str) -> dict[dt.datetime, Decimal]:
    """Per timestamp one value in Wh (energy) or kW (power): the phase-less value if reported,
    otherwise the sum over phases."""
    rows = MeterValue.objects.filter(
        transaction=tx, measurand=measurand, value__isnull=False, location__in=SOLD_LOCATIONS
    ).values_list("timestamp", "phase", "unit", "value")
    total: dict[dt.datetime, Decimal] = {}
    phases: dict[dt.datetime, Decimal] = defaultdict(Decimal)
    for timestamp, phase, unit, value in rows:
        factor = UNITS[measurand].get(unit)
        if factor is None:
            continue
        if phase in ("", "N"):
            total[timestamp] = value * factor
        elif phase in ("L1", "L2", "L3"):  # L1-N etc. are the same phases; count each once
            phases[timestamp] += value * factor
    return {t: total.get(t, phases.get(t)) for t in set(total) | set(phases)}


def session_for_transaction(tx: Transaction, *, time_zone: str) -> tuple[Session, list[str]]:
    """The engine Session for a completed transaction, with notes on anything that was repaired."""
    notes: list[str] = []
    start = tx.started_at
    end = tx.stopped_at or start
    if tx.stopped_at is None:
        notes.append("The transaction has no stop time; priced as zero length.")
    if end < start:
        notes.append("The charger reported a stop before the start; priced as zero length.")
        end = start
    total = Decimal((tx.meter_stop if tx.meter_stop is not None else tx.meter_start) - tx.meter_start)
    if total < 0:
        notes.append("The stop meter reading is below the start reading; no energy is billed.")
        total = Decimal(0)
    energy = _readings(tx, ENERGY)
    power = _readings(tx, POWER)
    samples = [MeterSample(start, Decimal(0))]
    delivered = Decimal(0)
    for timestamp in sorted(energy):
        if not start < timestamp < end:
            continue  # the start and stop readings stand for these instants
        # Registers never run backwards and the stop reading is what is billed: clamp.
        delivered = min(max(delivered, energy[timestamp] - tx.meter_start), total)
        samples.append(MeterSample(timestamp, delivered, power_kw=power.get(timestamp)))
    samples.append(MeterSample(end, total, power_kw=power.get(end)))
    if end == start:
        samples = samples[:1]
    session = Session(
        start=start, end=end, time_zone=time_zone, samples=tuple(samples), energy_wh=None if len(samples) > 1 else total
    )
    return session, notes


# --------------------------------------------------------------------------- result -> figures

LINE_UNITS = {"ENERGY": "kWh", "TIME": "h", "PARKING_TIME": "h", "RESERVATION_TIME": "h", "FLAT": ""}


def charging_periods(result: Result) -> list[dict]:
    """OCPI ChargingPeriods: start and dimensions (ENERGY kWh, TIME / PARKING_TIME /
    RESERVATION_TIME hours). FLAT is not a CDR dimension and idle fees double parking time."""
    periods = []
    for p in result.periods:
        dimensions = [
            {"type": ln.type, "volume": format(to_decimal(ln.volume, 6), "f")}
            for ln in p.lines
            if ln.type != "FLAT" and ln.source == "tariff"
        ]
        if dimensions:
            periods.append(
                {"start_date_time": format_datetime(p.start), "dimensions": dimensions, "tariff_id": result.tariff_id}
            )
    return periods


def cost_lines(result: Result) -> list[dict]:
    """Priced lines aggregated per (dimension, source, price, VAT): billed volume and exact amount."""
    groups: dict[tuple, dict] = {}
    for p in result.periods:
        for ln in p.lines:
            if ln.component is None:
                continue
            vat = ln.component.vat
            key = (ln.type, ln.source, ln.component.price, vat)
            item = groups.setdefault(key, {"volume": Fraction(0), "excl": Fraction(0)})
            item["volume"] += ln.billed_volume
            item["excl"] += ln.excl_vat
    return [
        {
            "type": kind,
            "source": source,
            "unit": LINE_UNITS.get(kind, ""),
            "volume": format(to_decimal(item["volume"], 6), "f"),
            "unit_price": format(number(price), "f"),
            "vat": None if vat is None else format(number(vat), "f"),
            "excl_vat": format(to_decimal(item["excl"], 12), "f"),
        }
        for (kind, source, price, vat), item in groups.items()
    ]


def dimension_costs(result: Result, currency: str) -> dict:
    """OCPI total_*_cost figures (excl./incl. VAT, each rounded once); None when not priced."""
    out = {}
    for name, types in (("fixed", {"FLAT"}), ("energy", {"ENERGY"}), ("time", {"TIME"}), ("parking", {"PARKING_TIME"})):
        lines = [ln for p in result.periods for ln in p.lines if ln.type in types and ln.component is not None]
        excl = sum((ln.excl_vat for ln in lines), Fraction(0))
        incl = sum((ln.incl_vat for ln in lines), Fraction(0))
        out[f"total_{name}_cost_excl_vat"] = quantize(to_decimal(excl), currency) if lines else None
        out[f"total_{name}_cost_incl_vat"] = quantize(to_decimal(incl), currency) if lines else None
    return out
