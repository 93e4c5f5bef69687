"""Command-line front end shared by `manage.py simulate_chargers` and `python -m apps.simulator`.

The second needs no Django settings (and so no database): handy on a load-generator machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable

from apps.simulator.fleet import PROTOCOLS, run_fleet
from apps.simulator.state import SimOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--protocol", default="1.6", choices=PROTOCOLS)
    parser.add_argument(
        "--url", default="ws://demo.localhost:8000/ocpp/", help="CSMS endpoint; the identity is appended"
    )
    parser.add_argument("--password", help="HTTP Basic password (security profile 1); username = identity")
    parser.add_argument("--prefix", default="SIM-")
    parser.add_argument("--first", type=int, default=1, help="number of the first identity")
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--heartbeat", type=int, default=60, help="seconds, used until the CSMS sets an interval")
    parser.add_argument("--meter-interval", type=int, default=30, help="MeterValueSampleInterval, seconds")
    parser.add_argument(
        "--session-every",
        type=float,
        default=300,
        help="mean seconds between local sessions per charger; 0 = remote starts only",
    )
    parser.add_argument("--duration", type=float, default=0, help="stop after N seconds; 0 = run forever")
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--id-tags",
        default=",".join(SimOptions.id_tags),
        help="comma-separated idTags drivers present for local sessions (must be known to the CSMS)",
    )
    parser.add_argument(
        "--speedup", type=float, default=1.0, help="simulated seconds of charging per real second (energy only)"
    )
    parser.add_argument("--progress", type=float, default=5.0, help="seconds between summary lines; 0 = none")
    parser.add_argument("--verbose", action="store_true", help="log every OCPP frame and every failure")


def options_from(opts: dict) -> SimOptions:
    if opts["count"] < 1:
        raise ValueError("--count must be at least 1")
    return SimOptions(
        url=opts["url"],
        count=opts["count"],
        protocol=opts["protocol"],
        password=opts["password"],
        prefix=opts["prefix"],
        first_index=opts["first"],
        connectors=opts["connectors"],
        heartbeat=opts["heartbeat"],
        meter_interval=opts["meter_interval"],
        session_every=opts["session_every"],
        duration=opts["duration"],
        seed=opts["seed"],
        id_tags=tuple(t.strip() for t in opts["id_tags"].split(",") if t.strip()),
        speedup=opts["speedup"],
        progress_every=opts["progress"],
    )


def run(options: SimOptions, *, verbose: bool, write: Callable[[str], None]) -> None:
    # Quiet by default: with thousands of chargers only the summary line is readable.
    level = logging.INFO if verbose else logging.ERROR
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("ocpp").setLevel(logging.INFO if verbose else logging.CRITICAL)
    logging.getLogger("evzone.simulator").setLevel(level)
    logging.getLogger("websockets").setLevel(level)
    write(f"simulating {options.count} OCPP {options.protocol} chargers {options.identity(0)}.. against {options.url}")
    try:
        asyncio.run(run_fleet(options, report=write))
    except KeyboardInterrupt:
        write("interrupted")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apps.simulator", description=__doc__)
    add_arguments(parser)
    opts = vars(parser.parse_args(argv))
    try:
        options = options_from(opts)
    except ValueError as exc:
        parser.error(str(exc))
    run(options, verbose=opts["verbose"], write=print)
