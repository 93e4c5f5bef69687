"""A plausible AC charging curve and the SampledValue lists a 1.6 meter would report."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from apps.simulator.state import Connector, now_iso

PHASES = ("L1", "L2", "L3")
NOMINAL_V = 230.0


@dataclass
class EVSession:
    """The car on the cable: its battery bounds how long and how fast it can charge."""

    connector: Connector
    rng: random.Random
    max_power_w: float
    speedup: float = 1.0
    capacity_wh: float = 0.0
    soc: float = 0.0
    # Vehicles ramp up over the first simulated minute rather than jumping to full power.
    ramp_s: float = 60.0
    limit_w: float | None = None
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)
    power_w: float = 0.0

    def __post_init__(self) -> None:
        self.capacity_wh = self.rng.choice([40_000, 58_000, 64_000, 77_000, 82_000])
        self.soc = self.rng.uniform(10, 60)
        self.onboard_w = self.rng.choice([7_400, 11_000, 11_000, 22_000])

    def advance(self) -> None:
        """Integrate energy since the last call into the connector's register."""
        now = time.monotonic()
        sim_elapsed = (now - self.started) * self.speedup
        dt_h = (now - self.last) * self.speedup / 3600
        self.last = now
        target = min(self.max_power_w, self.onboard_w)
        if self.limit_w is not None:
            target = min(target, self.limit_w)
        target *= min(1.0, 0.2 + sim_elapsed / self.ramp_s)
        if self.soc >= 80:
            # Constant-voltage phase: power falls roughly linearly to zero at 100 %.
            target *= max(0.0, (100 - self.soc) / 20)
        self.power_w = target * self.rng.uniform(0.97, 1.0) if target > 50 else 0.0
        energy = self.power_w * dt_h
        self.connector.energy_wh += energy
        self.soc = min(100.0, self.soc + 100 * energy / self.capacity_wh)

    @property
    def full(self) -> bool:
        return self.soc >= 99.9


def _sv(value, context: str, measurand: str, unit: str, *, phase=None, location="Outlet") -> dict:
    sv = {"value": value, "context": context, "format": "Raw", "measurand": measurand, "location": location}
    if phase:
        sv["phase"] = phase
    if unit:
        sv["unit"] = unit
    return sv


def sample(connector: Connector, ev: EVSession | None, measurands: list[str], context: str, rng: random.Random) -> dict:
    """One MeterValue ({timestamp, sampledValue}) for the given measurands."""
    power = ev.power_w if ev else 0.0
    current = power / (3 * NOMINAL_V)
    values: list[dict] = []
    for m in measurands:
        if m == "Energy.Active.Import.Register":
            values.append(_sv(str(int(connector.energy_wh)), context, m, "Wh"))
        elif m == "Power.Active.Import":
            values.append(_sv(f"{power:.1f}", context, m, "W"))
        elif m == "Power.Offered":
            offered = ev.limit_w if ev and ev.limit_w is not None else (ev.max_power_w if ev else 0.0)
            values.append(_sv(f"{offered:.1f}", context, m, "W"))
        elif m == "Current.Import":
            for ph in PHASES:
                values.append(_sv(f"{current * rng.uniform(0.98, 1.02):.2f}", context, m, "A", phase=ph))
        elif m == "Current.Offered":
            offered = (ev.limit_w if ev and ev.limit_w is not None else 22_000) / (3 * NOMINAL_V)
            values.append(_sv(f"{offered:.1f}", context, m, "A"))
        elif m == "Voltage":
            for ph in PHASES:
                values.append(_sv(f"{NOMINAL_V + rng.uniform(-4, 4):.1f}", context, m, "V", phase=f"{ph}-N"))
        elif m == "SoC" and ev is not None:
            values.append(_sv(str(int(ev.soc)), context, m, "Percent", location="EV"))
        elif m == "Frequency":
            values.append(_sv(f"{50 + rng.uniform(-0.05, 0.05):.2f}", context, m, ""))
        elif m == "Temperature":
            values.append(_sv(f"{25 + power / 2000:.1f}", context, m, "Celsius", location="Body"))
    return {"timestamp": now_iso(), "sampledValue": values}
