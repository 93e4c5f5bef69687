"""Run virtual chargers against the in-test CSMS. No database: these are plain asyncio tests."""

from __future__ import annotations

import asyncio
import json

import pytest

from apps.simulator.fleet import build_chargers
from apps.simulator.state import SimOptions, Stats
from tests.simulator.csms import FakeCSMS
from tests.simulator.csms2 import CSMS2

FAST = {
    "seed": 42,
    "meter_interval": 1,
    "step_delay": 0.05,
    "reconnect_min": 0.05,
    "reconnect_max": 0.2,
    "call_timeout": 3,
    # Ten simulated minutes per second: each one-second meter sample adds kWh, not fractions of Wh.
    "speedup": 600,
    "boot_retry": 0.2,
    "progress_every": 0,
}


@pytest.fixture
def simulate():
    """simulate(scenario, csms={...}, **options) runs `await scenario(csms, charger)` (or the charger
    list when count > 1) while the chargers run, with a hard timeout."""

    def run(scenario, *, csms: dict | None = None, timeout: float = 15, url_host: str | None = None, **options):
        async def main():
            protocol = options.get("protocol", "1.6")
            server_class = FakeCSMS if protocol == "1.6" else CSMS2[protocol]
            async with server_class(**(csms or {})) as server:
                url = server.url.replace("127.0.0.1", url_host) if url_host else server.url
                opts = SimOptions(url=url, **{**FAST, **options})
                chargers = build_chargers(opts, Stats())
                tasks = [asyncio.create_task(c.run()) for c in chargers]
                try:
                    target = chargers[0] if len(chargers) == 1 else chargers
                    await asyncio.wait_for(scenario(server, target), timeout)
                finally:
                    for charger in chargers:
                        charger.stop()
                    _, pending = await asyncio.wait(tasks, timeout=5)
                    assert not pending, "a charger did not stop within 5 s"

        asyncio.run(main())

    return run


async def until(predicate, timeout: float = 5.0, step: float = 0.02) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)


def frame_index(csms: FakeCSMS, predicate) -> int:
    """Position of the first frame (parsed OCPP-J array) the CSMS received that matches."""
    for n, (_identity, raw) in enumerate(csms.frames):
        if predicate(json.loads(raw)):
            return n
    raise AssertionError("no such frame")
