"""Run the fleet benchmarks of issue 8 against a server this command starts itself.

    python -m benchmarks.run --target ceiling|evzone \
        --scenario steady|throughput|storm|commands|scaleout|all --chargers N --duration S

Prints a table and writes benchmarks/results/<timestamp>.json. Every run is bounded
(connect deadline, measuring window, drain timeout, and a hard --max-runtime) and
targets 127.0.0.1 only. See benchmarks/README.md for what each scenario measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import ocppj
from benchmarks.httpclient import request
from benchmarks.loadgen import Fleet, FleetConfig, percentiles, raise_nofile
from benchmarks.servers import (
    HOST,
    PySpy,
    ResourceMeter,
    ServerProcess,
    TargetUnavailable,
    free_ports,
    rss_bytes,
    stop_all,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCENARIOS = ("steady", "throughput", "storm", "commands", "scaleout")
CEILING_PASSWORD = "bench-charger-password-2026"


class CeilingTarget:
    """benchmarks/ceiling_server.py in a subprocess (with --workers N for scale-out)."""

    name = "ceiling"

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.server: ServerProcess | None = None
        self.port = self.http_port = 0
        self.ports: list[int] = []
        self.workers = 1
        self.password = CEILING_PASSWORD

    def prepare(self, chargers: int) -> None:
        pass

    def start(self, workers: int = 1, *, same_port: bool = False, log_suffix: str = "") -> None:
        ports = self.ports if same_port else free_ports(2 + (workers if workers > 1 else 0))
        self.ports, self.workers = ports, workers
        self.port, self.http_port = ports[0], ports[1]
        argv = [
            sys.executable,
            "-m",
            "benchmarks.ceiling_server",
            "--port",
            str(self.port),
            "--http-port",
            str(self.http_port),
            "--workers",
            str(workers),
            "--password",
            self.password,
        ]
        if workers > 1:
            argv += ["--peer-ports", ",".join(map(str, ports[2:]))]
        self.server = ServerProcess(argv, log_path=self.log_dir / f"ceiling-{self.port}{log_suffix}.log")
        self.server.wait_port(self.port, 30, "ceiling server")
        if same_port:
            return  # a restart: the storm starts as soon as the websocket port answers
        self.server.wait_port(self.http_port, 30, "ceiling server (control port)")
        if workers > 1:
            for p in ports[2:]:
                self.server.wait_port(p, 30, "ceiling worker")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def server_pids(self) -> list[int]:
        return [self.server.pid] if self.server else []

    def service_pids(self) -> list[int]:
        return []

    def counts(self) -> dict | None:
        return None

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ocpp/bench/{{ident}}"

    @property
    def api(self) -> dict:
        return {"host": HOST, "port": self.http_port, "headers": {"Authorization": "Token ceiling"}}


def restart_server(target) -> dict:
    """Stop the target's server as a deploy does (SIGTERM, then its graceful shutdown --
    uvicorn's is 2 s here; SIGKILL of its process group only after 10 s) and start the
    same command again on the same port. Returns once the websocket port accepts
    connections again (the instant waiting chargers would get in), with the times."""
    t0 = time.monotonic()
    target.stop()
    t1 = time.monotonic()
    target.start(target.workers, same_port=True, log_suffix="-restarted")
    t2 = time.monotonic()
    return {"stop_s": round(t1 - t0, 2), "start_s": round(t2 - t1, 2), "down_s": round(t2 - t0, 2)}


def make_target(name: str, log_dir: Path):
    if name == "ceiling":
        return CeilingTarget(log_dir)
    from benchmarks.evzone_target import EvzoneTarget

    return EvzoneTarget(log_dir)


# ====================================================================== commands under load


async def warm_commands(api: dict, *, count: int, timeout: float) -> list[float]:
    """`--command-warmup`: a few commands, one after the other, before the measured window.
    A fresh server process pays its first API request's lazy imports (URLconf, views, DRF)
    and channel-layer setup, ~1 s here, and the open loop queues the next commands behind
    it; a server that has been up for an hour has not. Their latencies are reported apart."""
    if count <= 0:
        return []
    stats = await drive_commands(api, chargers=1, rate=1000, duration=0, timeout=timeout, seed=99, sequential=count)
    return [item["ms"] for item in sorted(stats["slowest"], key=lambda item: item["n"])]


async def drive_commands(
    api: dict,
    *,
    chargers: int,
    rate: float,
    duration: float,
    timeout: float,
    seed: int = 4,
    sequential: int = 0,
) -> dict:
    """Open loop: `rate` commands a second for `duration` seconds, alternating
    RemoteStartTransaction and RemoteStopTransaction on random chargers; each one's
    API round trip (request → charger answers → response) is timed."""
    rnd = random.Random(seed)
    latencies: list[float] = []
    order: list[tuple[int, float]] = []  # (issue number, ms): are the slow ones the first (a cold process)?
    outcome: dict[str, int] = {}
    tasks: set[asyncio.Task] = set()

    async def one(n: int):
        i = rnd.randint(1, chargers)
        if n % 2 == 0:
            action, payload = "RemoteStartTransaction", {"idTag": ocppj.id_tag(i), "connectorId": 1}
        else:
            action, payload = "RemoteStopTransaction", {"transactionId": rnd.randint(1, 10**6)}
        path = f"/api/v1/charge-points/{ocppj.identity(i)}/ocpp/{action}?timeout={timeout:g}"
        t0 = time.monotonic()
        try:
            status, body = await request(
                api["host"],
                api["port"],
                "POST",
                path,
                json.dumps(payload).encode(),
                headers=api["headers"],
                timeout=timeout + 5,
            )
        except Exception as exc:  # noqa: BLE001
            key = f"client:{type(exc).__name__}"
        else:
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                data = {}
            if status == 200 and data.get("status") == "ok":
                latencies.append((time.monotonic() - t0) * 1000)
                order.append((n, round(latencies[-1], 1)))
                key = "ok"
            else:
                key = f"http {status} {data.get('code') or data.get('status') or ''}".strip()
        outcome[key] = outcome.get(key, 0) + 1

    if sequential:
        for n in range(sequential):
            await one(n)
        return {"issued": sequential, "ok": outcome.get("ok", 0), "slowest": [{"n": i, "ms": ms} for i, ms in order]}
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < duration:
        if len(tasks) < 200:
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        else:
            outcome["skipped (200 outstanding)"] = outcome.get("skipped (200 outstanding)", 0) + 1
        n += 1
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
    if tasks:
        await asyncio.wait(tasks, timeout=timeout + 10)
    slowest = sorted(order, key=lambda item: -item[1])[:5]
    return {
        "issued": n,
        "ok": outcome.get("ok", 0),
        "outcome": outcome,
        "latency_ms": percentiles(latencies),
        "slowest": [{"n": i, "ms": ms} for i, ms in slowest],
    }


# ====================================================================== one fleet against one server


async def fleet_run(
    target, args, *, scenario: str, chargers: int, commands_rate: float = 0.0, workers: int = 1
) -> dict:
    procs = args.procs or (1 if chargers <= 2000 or scenario == "throughput" else min(2, os.cpu_count() or 1))
    storm = scenario.startswith("storm")
    restart = scenario == "storm-restart"
    ramp_deadline = args.connect_deadline or max(60.0, chargers / 50)
    deadline = args.storm_deadline if storm and not restart else ramp_deadline
    cfg = FleetConfig(
        url=target.ws_url,
        scenario="storm" if storm else "steady" if scenario == "commands" else scenario,
        restart=restart,
        storm_deadline=args.storm_deadline if restart else 0.0,
        chargers=chargers,
        password=target.password,
        interval_min=args.interval[0],
        interval_max=args.interval[1],
        connect_deadline=deadline,
        connect_concurrency=args.connect_concurrency,
    )
    server_pids = target.server_pids
    counts_before = target.counts() if args.check_counts else None
    fleet = Fleet(cfg, procs)
    row: dict = {
        "target": target.name,
        "scenario": scenario,
        "workers": workers,
        "chargers": chargers,
        "generator_procs": fleet.procs,
    }
    restarted = None
    try:
        await fleet.start()
        if restart:
            # The fleet connects and boots as the steady ramp does; then the server goes
            # down under it and comes back on the same port, and everyone reconnects at once.
            await fleet.connect()
            fleet.server_down()
            restarted = await asyncio.to_thread(restart_server, target)
        rss_idle = rss_bytes(server_pids())
        meter = ResourceMeter(server_pids)
        services = ResourceMeter(target.service_pids)
        spy = None
        if args.py_spy:
            spy = PySpy(server_pids, target.log_dir, f"{target.name}-{scenario}-x{workers}", fmt=args.py_spy)

        def measure_from_now() -> None:
            meter.start()
            services.start()
            if spy:
                spy.start()

        if storm:
            measure_from_now()
        connect = await (fleet.reconnect() if restart else fleet.connect())
        rss_connected = rss_bytes(server_pids())
        commands = None
        if not storm:
            warmup = []
            if commands_rate > 0 and args.command_warmup:
                warmup = await warm_commands(target.api, count=args.command_warmup, timeout=args.command_timeout)
            measure_from_now()
            fleet.measure()
            if commands_rate > 0:
                commands = await drive_commands(
                    target.api,
                    chargers=chargers,
                    rate=commands_rate,
                    duration=args.duration,
                    timeout=args.command_timeout,
                )
            else:
                await asyncio.sleep(args.duration)
        server = meter.stop()
        service_use = services.stop()
        if spy:
            row["profiles"] = spy.stop()
        if not target.service_pids():
            service_use = None
        result = await fleet.stop()
    finally:
        fleet.kill()
    summary = result.summary()
    connected = summary["connected"]
    server.update(
        rss_idle_mb=round(rss_idle / 2**20, 1),
        rss_connected_mb=round(rss_connected / 2**20, 1),
        kb_per_charger=round((rss_connected - rss_idle) / 1024 / connected, 1) if connected else None,
    )
    row.update(connected=connected, connect_s=round(connect["connect_s"], 2), fleet=summary, server=server)
    if restarted is not None:
        row["restart"] = restarted
    if service_use:
        row["services"] = service_use
    if commands is not None:
        row["commands"] = commands
        if warmup:
            commands["warmup_ms"] = warmup
    if not storm and summary["window_s"]:
        row["msgs_per_s"] = round(summary["answered_in_window"] / summary["window_s"], 1)
    if args.check_counts and counts_before is not None:
        await asyncio.sleep(3)  # the message log and meter values are written in batches
        after = target.counts()
        row["persisted"] = _persisted(counts_before, after, summary)
    return row


def _persisted(before: dict, after: dict, summary: dict) -> dict:
    if "error" in before or "error" in after:
        return {"error": before.get("error") or after.get("error")}
    frames = summary["by_action"].get("MeterValues", 0)
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    # Each simulated MeterValues frame carries two sampled values (energy and power).
    d["meter_values_frames_answered"] = frames
    d["meter_value_rows_expected"] = 2 * frames
    d["lost_meter_value_rows"] = 2 * frames - d.get("meter_value_rows", 0)
    return d


# ====================================================================== scenarios


async def run_scenario(name: str, args, log_dir: Path) -> list[dict]:
    rows: list[dict] = []
    if name == "scaleout":
        for workers in args.workers_list:
            target = make_target(args.target, log_dir)
            target.prepare(max(args.chargers, args.throughput_chargers))
            target.start(workers)
            try:
                rows.append(
                    await fleet_run(
                        target,
                        args,
                        scenario="commands",
                        chargers=args.chargers,
                        commands_rate=args.command_rate,
                        workers=workers,
                    )
                )
                rows.append(
                    await fleet_run(
                        target, args, scenario="throughput", chargers=args.throughput_chargers, workers=workers
                    )
                )
            finally:
                target.stop()
            for r in rows[-2:]:
                r["scenario"] = f"scaleout/{r['scenario']}"
        return rows

    if name == "throughput":
        chargers = args.throughput_chargers
    elif name == "storm":
        chargers = args.storm_chargers or args.chargers
    else:
        chargers = args.chargers
    targets = [args.target]
    if name == "throughput" and args.target == "evzone":
        targets = ["ceiling", "evzone"]  # the ceiling measured in the same run, for the ratio
    variants = [name]
    if name == "storm":
        variants = {"cold": ["storm"], "restart": ["storm-restart"], "both": ["storm", "storm-restart"]}[
            args.storm_mode
        ]
    for tname in targets:
        for variant in variants:
            # A fresh server and, for EVzone, a fresh password hash each time: nothing any
            # earlier fleet left in a cache can make a cold storm warm.
            target = make_target(tname, log_dir)
            target.prepare(chargers)
            target.start(1)
            try:
                rows.append(
                    await fleet_run(
                        target,
                        args,
                        scenario=variant,
                        chargers=chargers,
                        commands_rate=args.command_rate if name == "commands" else 0.0,
                    )
                )
            finally:
                target.stop()
    if len(rows) == 2 and rows[0].get("msgs_per_s"):
        rows[1]["ratio_to_ceiling"] = round(rows[1].get("msgs_per_s", 0) / rows[0]["msgs_per_s"], 3)
    return rows


# ====================================================================== output


COLUMNS = [
    ("target", 8),
    ("scenario", 20),
    ("wrk", 3),
    ("chargers", 8),
    ("connected", 9),
    ("answered", 9),
    ("errors", 6),
    ("p50 ms", 8),
    ("p95 ms", 8),
    ("p99 ms", 8),
    ("msgs/s", 8),
    ("srv CPU%", 8),
    ("srv MB", 7),
    ("KB/chg", 7),
    ("notes", 0),
]


def table_row(row: dict) -> list[str]:
    f = row["fleet"]
    lat = f["latency_ms"]
    notes = []
    storm = row["scenario"].startswith("storm")
    if storm:
        lat = {k: round(v * 1000, 1) if isinstance(v, float) else v for k, v in f["accept_s"].items()}
        notes.append(
            f"all Accepted in {f['all_accepted_s']} s"
            if f["all_accepted_s"] is not None
            else f"NOT all Accepted ({len_or(f, 'accept_s')}/{row['chargers']})"
        )
        notes.append(f"attempts {f['connect_attempts']}")
    if "restart" in row:
        ramp, r = f.get("ramp") or {}, row["restart"]
        notes.append(
            f"before: {ramp.get('connected')} connected in {ramp.get('connect_s')} s"
            + (f" (failures {ramp['connect_failures']})" if ramp.get("connect_failures") else "")
            + f"; restart: stopped in {r['stop_s']} s, listening again {r['start_s']} s later"
            + f"; {f['closed_by_restart']} closes seen before the reconnect"
        )
    if f["connect_failures"]:
        notes.append("connect failures " + ", ".join(f"{k}={v}" for k, v in f["connect_failures"].items()))
    if f["errors"]:
        notes.append("errors " + ", ".join(f"{k}={v}" for k, v in list(f["errors"].items())[:4]))
    if f["dropped"]:
        notes.append(f"dropped {f['dropped']}")
    if "commands" in row:
        c = row["commands"]
        cl = c["latency_ms"]
        notes.append(
            f"commands ok {c['ok']}/{c['issued']} p50/p95/p99 {cl.get('p50')}/{cl.get('p95')}/"
            f"{cl.get('p99')} ms" + ("" if c["ok"] == c["issued"] else f" {c['outcome']}")
        )
        if c.get("warmup_ms"):
            notes.append(f"warm-up commands (not counted) {c['warmup_ms']} ms")
    if "ratio_to_ceiling" in row:
        notes.append(f"ratio to ceiling {row['ratio_to_ceiling']}")
    if "persisted" in row:
        notes.append(f"persisted {row['persisted']}")
    notes.append(f"gen CPU {f['generator_cpu_pct']}% RSS {f['generator_rss_mb']} MB")
    if "services" in row:
        notes.append(f"pg+redis CPU {row['services']['cpu_pct']}%")
    srv = row["server"]
    answered = f["answered"] if not storm else "-"
    return [
        row["target"],
        row["scenario"],
        str(row["workers"]),
        str(row["chargers"]),
        str(row["connected"]),
        str(answered),
        str(f["error_count"]),
        str(lat.get("p50", "-")),
        str(lat.get("p95", "-")),
        str(lat.get("p99", "-")),
        str(row.get("msgs_per_s", "-")),
        str(srv["cpu_pct"]),
        str(srv["peak_rss_mb"]),
        str(srv["kb_per_charger"]),
        "; ".join(notes),
    ]


def len_or(f: dict, key: str):
    return f[key].get("n", 0)


def print_table(rows: list[dict]) -> None:
    head = " ".join(name.ljust(w) if w else name for name, w in COLUMNS)
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = table_row(row)
        print(" ".join(c.ljust(w) if w else c for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    print(
        "(storm rows: p50/p95/p99 are the times until a charger's BootNotification was Accepted, in ms;"
        " storm-restart: counted from the instant the restarted server listens, CPU over the reconnect;"
        " srv CPU% = server processes, 100% = one core)"
    )


def target_checks(rows: list[dict]) -> list[str]:
    """Issue 8's targets, checked where a row measures them (informative; the issue's
    figures are meant for 10,000 / 5,000 chargers on the 2-core machine)."""
    out = []
    for row in rows:
        f, label = row["fleet"], f"{row['target']} {row['scenario']} x{row['workers']} ({row['chargers']} chargers)"
        checks = []
        if row["scenario"].endswith(("steady", "commands")):
            p99 = f["latency_ms"].get("p99")
            checks.append(("steady p99 < 200 ms", p99 is not None and p99 < 200, f"{p99} ms"))
            checks.append(
                (
                    "none dropped",
                    f["dropped"] == 0 and row["connected"] == row["chargers"],
                    f"connected {row['connected']}, dropped {f['dropped']}",
                )
            )
            kb = row["server"]["kb_per_charger"]
            if row["workers"] == 1:
                checks.append(("< 50 KB per charger", kb is not None and kb < 50, f"{kb} KB"))
        if "commands" in row:
            p99 = row["commands"]["latency_ms"].get("p99")
            checks.append(("command p99 < 300 ms", p99 is not None and p99 < 300, f"{p99} ms"))
        if row["scenario"].startswith("storm"):
            t = f["all_accepted_s"]
            # The storm is a reconnect (storm-restart); a cold storm is every charger's
            # first connect ever, with no password check cached anywhere (PBKDF2 for each).
            what = "reconnect storm" if row["scenario"] == "storm-restart" else "first-connect (cold) storm"
            checks.append((f"{what} all Accepted < 60 s", t is not None and t < 60, f"{t} s"))
        if "ratio_to_ceiling" in row:
            checks.append(
                ("throughput >= 40% of ceiling", row["ratio_to_ceiling"] >= 0.4, f"{row['ratio_to_ceiling']:.1%}")
            )
        if row.get("persisted", {}).get("meter_values_frames_answered"):
            lost = row["persisted"]["lost_meter_value_rows"]
            checks.append(("no meter value lost", lost == 0, f"{lost} rows missing"))
        row["target_checks"] = {name: {"ok": ok, "value": value} for name, ok, value in checks}
        out.extend(f"{'PASS' if ok else 'FAIL'}  {label}: {name} — {value}" for name, ok, value in checks)
    return out


# ====================================================================== main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="EVzone fleet benchmarks (issue 8).")
    p.add_argument("--target", choices=["ceiling", "evzone"], default="ceiling")
    p.add_argument(
        "--scenario", default="steady", help=f"one of {', '.join(SCENARIOS)}, a comma-separated list, or all"
    )
    p.add_argument("--chargers", type=int, default=500, help="fleet size (steady, commands, storm, scale-out)")
    p.add_argument("--duration", type=float, default=30, help="measuring window per fleet, seconds")
    p.add_argument("--procs", type=int, default=0, help="load generator processes (0: auto)")
    p.add_argument("--interval", default="30,60", help="steady fleet: min,max seconds between a charger's calls")
    p.add_argument("--throughput-chargers", type=int, default=200)
    p.add_argument("--storm-chargers", type=int, default=0, help="storm fleet size (default: --chargers)")
    p.add_argument("--storm-deadline", type=float, default=90, help="seconds the storm may take")
    p.add_argument(
        "--storm-mode",
        choices=["cold", "restart", "both"],
        default="both",
        help="cold: a fresh server, every charger connects for the first time; restart: the fleet "
        "connects, the server is stopped (SIGTERM) and started again on the same port, and every "
        "charger reconnects at once (row storm-restart); both: one of each",
    )
    p.add_argument("--connect-deadline", type=float, default=0, help="steady connect phase limit (0: auto)")
    p.add_argument(
        "--connect-concurrency",
        type=int,
        default=100,
        help="handshakes in flight per generator process during the steady ramp",
    )
    p.add_argument("--command-rate", type=float, default=5, help="commands per second (commands, scale-out)")
    p.add_argument("--command-timeout", type=float, default=10)
    p.add_argument(
        "--command-warmup",
        type=int,
        default=0,
        help="commands sent one by one before the measured window (a fresh process's first API request "
        "pays lazy imports); reported apart as warmup_ms",
    )
    p.add_argument("--workers-list", default="1,2,4", help="server processes for scale-out")
    p.add_argument(
        "--check-counts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="evzone: compare meter values stored with frames answered (default on for evzone)",
    )
    p.add_argument(
        "--py-spy",
        nargs="?",
        const="flamegraph",
        default="",
        choices=sorted(PySpy.EXTENSIONS),
        help="record a py-spy profile (GIL-holding threads) of every server process over each measured "
        "window, into the server log directory: a flame graph SVG by default, or speedscope JSON, or raw "
        "collapsed stacks; listed as profiles in the JSON",
    )
    p.add_argument("--max-runtime", type=float, default=0, help="hard stop in seconds (0: computed)")
    p.add_argument("--json", default="", help="result file (default benchmarks/results/<timestamp>.json)")
    args = p.parse_args(argv)
    args.interval = tuple(float(x) for x in args.interval.split(","))
    args.workers_list = [int(x) for x in args.workers_list.split(",") if x]
    args.scenarios = SCENARIOS if args.scenario == "all" else tuple(x for x in args.scenario.split(",") if x)
    unknown = [x for x in args.scenarios if x not in SCENARIOS]
    if unknown or not args.scenarios:
        p.error(f"unknown scenario {unknown}; choose from {', '.join(SCENARIOS)} or all")
    if args.check_counts is None:
        args.check_counts = args.target == "evzone"
    return args


def _budget(args) -> float:
    scenarios = args.scenarios
    per_fleet = args.duration + max(60.0, args.chargers / 50) + 60
    total = 0.0
    for s in scenarios:
        if s == "scaleout":
            total += 2 * len(args.workers_list) * per_fleet + 60 * len(args.workers_list)
        elif s == "storm":
            storm_chargers = args.storm_chargers or args.chargers
            ramp = args.connect_deadline or max(60.0, storm_chargers / 50)
            cold, restart = args.storm_deadline + 90, ramp + 30 + args.storm_deadline + 90
            total += {"cold": cold, "restart": restart, "both": cold + restart}[args.storm_mode]
        else:
            total += per_fleet * (2 if s == "throughput" and args.target == "evzone" else 1)
    if args.target == "evzone":
        total += 600  # setup (migrations) once per server start at most
    return total


async def amain(args) -> int:
    raise_nofile()
    scenarios = args.scenarios
    log_dir = Path(tempfile.mkdtemp(prefix="evzone-bench-"))
    started = datetime.now(UTC)
    rows: list[dict] = []
    error = None
    for name in scenarios:
        print(f"== {args.target} / {name} ...", flush=True)
        try:
            rows.extend(await run_scenario(name, args, log_dir))
        except TargetUnavailable as exc:
            error = f"{args.target} target unavailable: {exc}"
            print(error, file=sys.stderr)
            break
    if rows:
        print()
        print_table(rows)
        print("\nIssue 8 targets:")
        for line in target_checks(rows):
            print("  " + line)
    out = {
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "args": {k: v for k, v in vars(args).items()},
        "server_logs": str(log_dir),
        "results": rows,
        "error": error,
    }
    path = Path(args.json) if args.json else RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"\nJSON: {path}\nserver logs: {log_dir}")
    for row in rows:
        for profile in row.get("profiles", []):
            print(f"py-spy profile ({row['target']} {row['scenario']}): {profile}")
    return 2 if error else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    budget = args.max_runtime or _budget(args)

    def too_long(*_):
        raise SystemExit(f"benchmark exceeded --max-runtime {budget:.0f} s; stopped")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(int(budget) + 1)
    try:
        return asyncio.run(amain(args))
    finally:
        signal.alarm(0)
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
