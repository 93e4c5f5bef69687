"""Run many virtual chargers in one event loop and print a one-line summary now and then."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from apps.simulator.charger2 import Charger2
from apps.simulator.charger16 import Charger16
from apps.simulator.state import SimOptions, Stats, cancel_and_wait

CHARGERS = {"1.6": Charger16, "2.0.1": Charger2, "2.1": Charger2}
PROTOCOLS = tuple(CHARGERS)


def build_chargers(options: SimOptions, stats: Stats) -> list:
    if options.protocol not in PROTOCOLS:
        raise ValueError(f"protocol {options.protocol} is not simulated yet (have: {', '.join(PROTOCOLS)})")
    # One seed drives every charger's own generator: the same --seed gives the same fleet.
    master = random.Random(options.seed)
    stats.chargers = options.count
    cls = CHARGERS[options.protocol]
    return [cls(options.identity(n), options, stats, random.Random(master.random())) for n in range(options.count)]


async def run_fleet(options: SimOptions, *, report: Callable[[str], None] = print, stats: Stats | None = None) -> Stats:
    stats = stats or Stats()
    chargers = build_chargers(options, stats)
    started = time.monotonic()
    tasks = []
    # Spread connection attempts: thousands of simultaneous handshakes only measure the accept queue.
    ramp = min(5.0, options.count / 500)
    for n, charger in enumerate(chargers):
        tasks.append(asyncio.create_task(charger.run(), name=charger.identity))
        if ramp and n % 50 == 49:
            await asyncio.sleep(ramp * 50 / options.count)

    async def progress():
        while True:
            await asyncio.sleep(options.progress_every)
            report(stats.line(time.monotonic() - started))

    reporter = asyncio.create_task(progress()) if options.progress_every else None
    try:
        if options.duration:
            await asyncio.sleep(max(0.0, options.duration - (time.monotonic() - started)))
        else:
            await asyncio.gather(*tasks)
    finally:
        winding = [asyncio.create_task(c.wind_down()) for c in chargers]
        _, late = await asyncio.wait(winding, timeout=max(5.0, 3 * options.step_delay)) if winding else ((), ())
        await cancel_and_wait(late)
        for charger in chargers:
            charger.stop()
        _, pending = await asyncio.wait(tasks, timeout=5)
        await cancel_and_wait(pending)
        if reporter:
            reporter.cancel()
        report(stats.line(time.monotonic() - started) + "  (stopped)")
    return stats
