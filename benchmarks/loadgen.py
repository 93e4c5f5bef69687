"""Load generator: N simulated OCPP 1.6 chargers over `websockets`, many per process,
optionally spread over several processes (`--procs`) so that on a 2-core machine the
generator is not what is being measured.

Each charger is a `Charger` (a handful of slots) plus one reader task; a single
scheduler per process sends the steady-fleet calls from a heap of due times, and in
closed-loop mode the reader sends the next call as soon as an answer arrives.

Phases, driven by the parent through a shared integer:
  0 loaded → 1 connect (steady/throughput: connect + BootNotification with bounded
  concurrency; storm: every charger at once, retrying until Accepted or the deadline)
  → 2 measure (steady: every charger one call every 30–60 s; throughput: closed loop)
  → 5 stop (no new calls, wait for outstanding answers, close, report).
The storm after a restart (`restart=True`) connects as the steady fleet does, then
  → 3 server down (the parent is about to stop the server: the closes that follow are
  expected, not drops) → 4 reconnect (the server listens again: every charger at once,
  as in the cold storm, timed from this instant) → 5 stop.

Standalone, against a server that is already running:

    python -m benchmarks.loadgen --url 'ws://127.0.0.1:9000/ocpp/bench/{ident}' \
        --scenario steady --chargers 500 --duration 60 --procs 2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import heapq
import json
import math
import multiprocessing
import os
import random
import resource
import time
from array import array
from dataclasses import asdict, dataclass, field

from benchmarks import ocppj

PHASE_LOADED, PHASE_CONNECT, PHASE_MEASURE, PHASE_SERVER_DOWN, PHASE_RECONNECT, PHASE_STOP = 0, 1, 2, 3, 4, 5


@dataclass
class FleetConfig:
    url: str  # with {ident}, e.g. ws://127.0.0.1:9000/ocpp/bench/{ident}
    scenario: str  # steady | throughput | storm
    chargers: int
    first_index: int = 1
    password: str | None = None
    interval_min: float = 30.0
    interval_max: float = 60.0
    connect_concurrency: int = 100  # per process, steady/throughput connect phase
    connect_deadline: float = 120.0  # seconds for the connect phase / the storm
    call_timeout: float = 30.0
    # storm only: first connect the fleet as the steady ramp does, then, when the parent
    # has restarted the server, reconnect everyone at once within storm_deadline seconds.
    restart: bool = False
    storm_deadline: float = 0.0  # 0: connect_deadline
    drain_timeout: float = 10.0
    open_timeout: float = 30.0
    seed: int = 8


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _bump(d: dict, key: str, n: int = 1) -> None:
    d[key] = d.get(key, 0) + n


class Worker:
    def __init__(self, cfg: FleetConfig, proc: int, indices: range, phase, queue):
        self.cfg = cfg
        self.proc = proc
        self.indices = indices
        self.phase = phase
        self.queue = queue
        rnd = random.Random(cfg.seed * 1000 + proc)
        self.rnd = rnd
        self.chargers = [ocppj.Charger(i, rnd.randrange(len(ocppj.CYCLE))) for i in indices]
        self.closed_loop = cfg.scenario == "throughput"
        self.measuring = False
        self.stopping = False
        self.window_start = 0.0
        # results
        self.connect_failures: dict[str, int] = {}
        self.connect_attempts = 0
        self.accept_s = array("d")
        self.boot_ms = array("d")
        self.latency_ms = array("d")
        self.sent = 0
        self.answered = 0
        self.by_action: dict[str, int] = {}
        self.latency_by_action: dict[str, array] = {}
        self.errors: dict[str, int] = {}
        self.rejected: dict[str, int] = {}
        self.commands_received = 0
        self.dropped = 0
        self.closed_by_restart = 0
        self.busy_skips = 0

    # ------------------------------------------------------------------ phases
    async def wait_phase(self, phase: int) -> None:
        while self.phase.value < phase:
            await asyncio.sleep(0.01)

    async def run(self) -> None:
        raise_nofile()
        self.queue.put(("loaded", self.proc, {}))
        await self.wait_phase(PHASE_CONNECT)
        t0 = time.monotonic()
        cpu0 = time.process_time()
        deadline = t0 + self.cfg.connect_deadline
        storm = self.cfg.scenario == "storm"
        at_once = storm and not self.cfg.restart
        sem = asyncio.Semaphore(len(self.chargers) if at_once else self.cfg.connect_concurrency)
        await asyncio.gather(*(self.connect_one(c, t0, deadline, sem) for c in self.chargers))
        connect_s = time.monotonic() - t0
        connect_cpu = time.process_time() - cpu0
        connected = sum(c.open for c in self.chargers)
        self.queue.put(("connected", self.proc, {"connected": connected, "connect_s": connect_s}))
        window = {}
        ramp = None
        if storm and self.cfg.restart:
            ramp = await self.restart_storm(connected, connect_s)
            connected, connect_s = ramp.pop("reconnected"), ramp.pop("reconnect_s")
            await self.wait_phase(PHASE_STOP)
        elif not storm:
            await self.wait_phase(PHASE_MEASURE)
            window = await self.measure()
        else:
            await self.wait_phase(PHASE_STOP)
        open_at_end = sum(c.open for c in self.chargers)
        await self.close_all()
        self.queue.put(
            (
                "done",
                self.proc,
                {
                    "chargers": len(self.chargers),
                    "connected": connected,
                    "connect_s": connect_s,
                    "connect_cpu_s": connect_cpu,
                    "connect_attempts": self.connect_attempts,
                    "connect_failures": self.connect_failures,
                    "accept_s": self.accept_s.tolist(),
                    "boot_ms": self.boot_ms.tolist(),
                    "open_at_end": open_at_end,
                    "closed_by_restart": self.closed_by_restart,
                    **({"ramp": ramp} if ramp is not None else {}),
                    **window,
                    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                },
            )
        )

    async def restart_storm(self, connected: int, connect_s: float) -> dict:
        """After the ramp: wait while the parent restarts the server, then reconnect every
        charger at the same instant. The counters the storm row reports (attempts,
        failures by kind, time to Accepted) are the reconnect's; the ramp's go apart."""
        await self.wait_phase(PHASE_SERVER_DOWN)
        ramp = {
            "connected": connected,
            "connect_s": connect_s,
            "connect_attempts": self.connect_attempts,
            "connect_failures": self.connect_failures,
        }
        self.connect_attempts, self.connect_failures = 0, {}
        self.accept_s, self.boot_ms = array("d"), array("d")
        await self.wait_phase(PHASE_RECONNECT)
        t0 = time.monotonic()
        # A connection whose close has not reached us yet is dead all the same.
        for c in self.chargers:
            if c.ws is not None:
                c.ws.transport.abort()
            c.ws, c.open, c.accepted = None, False, False
        sem = asyncio.Semaphore(len(self.chargers))
        deadline = t0 + (self.cfg.storm_deadline or self.cfg.connect_deadline)
        await asyncio.gather(*(self.connect_one(c, t0, deadline, sem) for c in self.chargers))
        ramp["reconnect_s"] = time.monotonic() - t0
        ramp["reconnected"] = sum(c.open for c in self.chargers)
        self.queue.put(("reconnected", self.proc, {"connected": ramp["reconnected"], "connect_s": ramp["reconnect_s"]}))
        return ramp

    # ------------------------------------------------------------------ connecting
    async def connect_one(self, c: ocppj.Charger, t0: float, deadline: float, sem: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect

        headers = None
        if self.cfg.password is not None:
            token = base64.b64encode(f"{c.ident}:{self.cfg.password}".encode()).decode()
            headers = {"Authorization": f"Basic {token}"}
        url = self.cfg.url.format(ident=c.ident)
        while time.monotonic() < deadline and self.phase.value < PHASE_STOP:
            async with sem:
                self.connect_attempts += 1
                ws = None
                try:
                    remaining = max(1.0, deadline - time.monotonic())
                    ws = await connect(
                        url,
                        subprotocols=["ocpp1.6"],
                        additional_headers=headers,
                        compression=None,
                        ping_interval=None,
                        close_timeout=2,
                        open_timeout=min(self.cfg.open_timeout, remaining),
                        max_size=2**20,
                    )
                    sent = time.monotonic()
                    await ws.send(ocppj.call_frame("boot", "BootNotification", ocppj.boot_payload(c.ident)))
                    status = await asyncio.wait_for(self._boot_answer(ws), min(self.cfg.call_timeout, remaining))
                except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
                    _bump(self.connect_failures, _failure_kind(exc))
                    if ws is not None:
                        ws.transport.abort()
                else:
                    if status == "Accepted":
                        now = time.monotonic()
                        self.boot_ms.append((now - sent) * 1000)
                        self.accept_s.append(now - t0)
                        c.ws, c.open, c.accepted = ws, True, True
                        asyncio.get_running_loop().create_task(self.reader(c))
                        return
                    _bump(self.connect_failures, f"boot:{status}")
                    ws.transport.abort()
            # A real charger retries after a pause; jitter spreads the retries.
            await asyncio.sleep(self.rnd.uniform(1.0, 3.0))

    @staticmethod
    async def _boot_answer(ws) -> str:
        while True:
            msg = ocppj.loads(await ws.recv())
            if msg[0] == ocppj.CALLRESULT and msg[1] == "boot":
                return msg[2].get("status", "?")
            if msg[0] == ocppj.CALLERROR and msg[1] == "boot":
                return f"CALLERROR {msg[2]}"
            if msg[0] == ocppj.CALL:  # e.g. a TriggerMessage before the boot answer
                await ws.send(ocppj.error_frame(msg[1], "SecurityError", "not booted"))

    # ------------------------------------------------------------------ talking
    async def send_next(self, c: ocppj.Charger) -> None:
        action, payload = c.next_message()
        uid = c.next_id()
        c.pending_id, c.pending_action, c.pending_t0 = uid, action, time.monotonic()
        self.sent += 1
        try:
            await c.ws.send(ocppj.call_frame(uid, action, payload))
        except Exception:  # noqa: BLE001 - the reader sees the closed connection
            pass

    async def reader(self, c: ocppj.Charger) -> None:
        ws = c.ws
        try:
            async for raw in ws:
                msg = ocppj.loads(raw)
                kind = msg[0]
                if kind == ocppj.CALL:
                    self.commands_received += 1
                    answer = ocppj.answer_command(msg[2], msg[3])
                    if answer is None:
                        await ws.send(ocppj.error_frame(msg[1], "NotImplemented"))
                    else:
                        await ws.send(ocppj.result_frame(msg[1], answer))
                    continue
                if msg[1] != c.pending_id:
                    _bump(self.errors, "stray_answer")
                    continue
                action = c.pending_action
                c.pending_id = None
                if self.measuring:
                    took = (time.monotonic() - c.pending_t0) * 1000
                    self.latency_ms.append(took)
                    self.latency_by_action.setdefault(action, array("d")).append(took)
                    self.answered += 1
                    _bump(self.by_action, action)
                if kind == ocppj.CALLRESULT:
                    payload = msg[2]
                    if action == ocppj.START:
                        c.tx = payload.get("transactionId")
                    info = payload.get("idTagInfo")
                    if info and info.get("status") != "Accepted":
                        _bump(self.rejected, f"{action}:{info.get('status')}")
                else:
                    _bump(self.errors, f"CALLERROR {action}: {msg[2]}")
                if self.closed_loop and self.measuring and not self.stopping:
                    await self.send_next(c)
        except Exception as exc:  # noqa: BLE001
            if not self.stopping and self.phase.value < PHASE_SERVER_DOWN:
                _bump(self.errors, f"reader:{type(exc).__name__}")
        finally:
            if c.ws is ws and c.open:
                if self.stopping or self.phase.value >= PHASE_STOP:
                    pass
                elif self.phase.value >= PHASE_SERVER_DOWN:
                    self.closed_by_restart += 1
                else:
                    self.dropped += 1
                c.open = False

    async def measure(self) -> dict:
        cfg, rnd = self.cfg, self.rnd
        live = [c for c in self.chargers if c.open]
        self.measuring = True
        start = self.window_start = time.monotonic()
        cpu0 = time.process_time()
        if self.closed_loop:
            for c in live:
                await self.send_next(c)
            await self.wait_phase(PHASE_STOP)
        else:
            mean = (cfg.interval_min + cfg.interval_max) / 2
            heap = [(start + rnd.uniform(0, mean), c.index, c) for c in live]
            heapq.heapify(heap)
            while self.phase.value < PHASE_STOP:
                now = time.monotonic()
                while heap and heap[0][0] <= now:
                    _, idx, c = heapq.heappop(heap)
                    if not c.open:
                        continue
                    if c.pending_id is not None:
                        if now - c.pending_t0 >= cfg.call_timeout:
                            _bump(self.errors, f"timeout {c.pending_action}")
                            c.pending_id = None
                        else:
                            self.busy_skips += 1
                            heapq.heappush(heap, (now + 1.0, idx, c))
                            continue
                    await self.send_next(c)
                    heapq.heappush(heap, (now + rnd.uniform(cfg.interval_min, cfg.interval_max), idx, c))
                delay = (heap[0][0] - time.monotonic()) if heap else 0.05
                await asyncio.sleep(min(max(delay, 0.0), 0.05))
        window_s = time.monotonic() - start
        answered_in_window = self.answered
        self.stopping = True
        # Let outstanding calls finish (answers still count, and their latency).
        drain_end = time.monotonic() + cfg.drain_timeout
        while time.monotonic() < drain_end and any(c.pending_id is not None and c.open for c in live):
            await asyncio.sleep(0.02)
        unanswered = sum(1 for c in live if c.pending_id is not None)
        if unanswered:
            _bump(self.errors, "unanswered", unanswered)
        self.measuring = False
        return {
            "window_s": window_s,
            "window_cpu_s": time.process_time() - cpu0,
            "sent": self.sent,
            "answered": self.answered,
            "answered_in_window": answered_in_window,
            "by_action": self.by_action,
            "errors": self.errors,
            "rejected": self.rejected,
            "latency_ms": self.latency_ms.tolist(),
            "latency_by_action": {a: v.tolist() for a, v in self.latency_by_action.items()},
            "commands_received": self.commands_received,
            "dropped": self.dropped,
            "busy_skips": self.busy_skips,
            "unanswered": unanswered,
        }

    async def close_all(self) -> None:
        self.stopping = True
        live = [c.ws for c in self.chargers if c.ws is not None]
        # Closing handshakes of thousands of sockets are not what is measured: abort.
        for ws in live:
            try:
                ws.transport.abort()
            except Exception:  # noqa: BLE001
                pass
        await asyncio.sleep(0.1)


def _failure_kind(exc: BaseException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status:
        return f"http:{status}"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    return type(exc).__name__


def worker_main(cfg: FleetConfig, proc: int, start: int, stop: int, phase, queue) -> None:
    worker = Worker(cfg, proc, range(start, stop), phase, queue)
    try:
        import uvloop

        uvloop.run(worker.run())
    except ImportError:
        asyncio.run(worker.run())


# ====================================================================== the parent side


@dataclass
class FleetResult:
    scenario: str
    chargers: int
    procs: int
    connected: int = 0
    connect_s: float = 0.0
    window_s: float = 0.0
    sent: int = 0
    answered: int = 0
    answered_in_window: int = 0
    errors: dict = field(default_factory=dict)
    connect_failures: dict = field(default_factory=dict)
    connect_attempts: int = 0
    rejected: dict = field(default_factory=dict)
    by_action: dict = field(default_factory=dict)
    dropped: int = 0
    closed_by_restart: int = 0
    open_at_end: int = 0
    unanswered: int = 0
    commands_received: int = 0
    latency_ms: list = field(default_factory=list)
    latency_by_action: dict = field(default_factory=dict)
    boot_ms: list = field(default_factory=list)
    accept_s: list = field(default_factory=list)
    generator_cpu_pct: float = 0.0
    generator_rss_mb: float = 0.0
    procs_reported: int = 0
    ramp: dict | None = None  # storm after a restart: the fleet's first connect

    def summary(self) -> dict:
        skip = ("latency_ms", "latency_by_action", "boot_ms", "accept_s")
        d = {k: v for k, v in asdict(self).items() if k not in skip}
        d["latency_ms"] = percentiles(self.latency_ms)
        d["latency_by_action"] = {a: percentiles(v) for a, v in sorted(self.latency_by_action.items())}
        d["boot_ms"] = percentiles(self.boot_ms)
        d["accept_s"] = percentiles(self.accept_s)
        d["all_accepted_s"] = (
            round(max(self.accept_s), 3) if self.accept_s and len(self.accept_s) == self.chargers else None
        )
        d["error_count"] = sum(self.errors.values())
        return d


def percentiles(values) -> dict:
    if not values:
        return {"n": 0}
    s = sorted(values)
    n = len(s)

    def pct(p):  # nearest rank
        return round(s[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))], 2)

    return {
        "n": n,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": round(s[-1], 2),
        "mean": round(sum(s) / n, 2),
    }


class Fleet:
    """Spawns the worker processes and walks them through the phases."""

    def __init__(self, cfg: FleetConfig, procs: int = 1):
        self.cfg = cfg
        self.procs = max(1, min(procs, cfg.chargers))
        ctx = multiprocessing.get_context("spawn")
        self.phase = ctx.Value("i", PHASE_LOADED, lock=False)
        self.queue = ctx.Queue()
        per = cfg.chargers // self.procs
        bounds = [cfg.first_index + i * per for i in range(self.procs)] + [cfg.first_index + cfg.chargers]
        self.processes = [
            ctx.Process(
                target=worker_main, daemon=True, args=(cfg, i, bounds[i], bounds[i + 1], self.phase, self.queue)
            )
            for i in range(self.procs)
        ]
        self.reports: dict[str, dict[int, dict]] = {"loaded": {}, "connected": {}, "reconnected": {}, "done": {}}

    async def _collect(self, kind: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.reports[kind]) < self.procs:
            if time.monotonic() > deadline:
                return False
            try:
                k, proc, data = self.queue.get_nowait()
                self.reports[k][proc] = data
            except Exception:  # noqa: BLE001 - queue.Empty
                if not any(p.is_alive() for p in self.processes) and self.queue.empty():
                    return False
                await asyncio.sleep(0.02)
        return True

    async def start(self) -> None:
        for p in self.processes:
            p.start()
        if not await self._collect("loaded", 60):
            raise RuntimeError("load generator processes did not start")

    async def connect(self) -> dict:
        """Phase 1; returns {"connected": n, "connect_s": s, "complete": bool}."""
        self.phase.value = PHASE_CONNECT
        ok = await self._collect("connected", self.cfg.connect_deadline + self.cfg.open_timeout + 15)
        rep = self.reports["connected"].values()
        return {
            "connected": sum(r["connected"] for r in rep),
            "connect_s": max((r["connect_s"] for r in rep), default=0.0),
            "complete": ok,
        }

    def measure(self) -> None:
        self.phase.value = PHASE_MEASURE

    def server_down(self) -> None:
        """Storm after a restart: say so before stopping the server, so that the closes
        the generators see next count as the restart's, not as drops."""
        self.phase.value = PHASE_SERVER_DOWN

    async def reconnect(self) -> dict:
        """Storm after a restart, once the server listens again: everyone reconnects at
        once; returns as connect() does, for the reconnect."""
        self.phase.value = PHASE_RECONNECT
        deadline = (self.cfg.storm_deadline or self.cfg.connect_deadline) + self.cfg.open_timeout + 15
        ok = await self._collect("reconnected", deadline)
        rep = self.reports["reconnected"].values()
        return {
            "connected": sum(r["connected"] for r in rep),
            "connect_s": max((r["connect_s"] for r in rep), default=0.0),
            "complete": ok,
        }

    async def stop(self) -> FleetResult:
        self.phase.value = PHASE_STOP
        await self._collect("done", self.cfg.drain_timeout + 30)
        for p in self.processes:
            p.join(5)
            if p.is_alive():
                p.kill()
        return self.result()

    def result(self) -> FleetResult:
        r = FleetResult(self.cfg.scenario, self.cfg.chargers, self.procs)
        cpu = 0.0
        for rep in self.reports["done"].values():
            r.procs_reported += 1
            for name in (
                "connected",
                "sent",
                "answered",
                "answered_in_window",
                "dropped",
                "open_at_end",
                "unanswered",
                "commands_received",
                "connect_attempts",
                "closed_by_restart",
            ):
                setattr(r, name, getattr(r, name) + rep.get(name, 0))
            r.connect_s = max(r.connect_s, rep.get("connect_s", 0.0))
            r.window_s = max(r.window_s, rep.get("window_s", 0.0))
            for name in ("errors", "connect_failures", "rejected", "by_action"):
                for k, v in rep.get(name, {}).items():
                    _bump(getattr(r, name), k, v)
            r.latency_ms.extend(rep.get("latency_ms", ()))
            for action, values in rep.get("latency_by_action", {}).items():
                r.latency_by_action.setdefault(action, []).extend(values)
            r.boot_ms.extend(rep.get("boot_ms", ()))
            r.accept_s.extend(rep.get("accept_s", ()))
            cpu += rep.get("window_cpu_s", 0.0)
            if "ramp" in rep:
                ramp = r.ramp = r.ramp or {
                    "connected": 0,
                    "connect_s": 0.0,
                    "connect_attempts": 0,
                    "connect_failures": {},
                }
                ramp["connected"] += rep["ramp"]["connected"]
                ramp["connect_attempts"] += rep["ramp"]["connect_attempts"]
                ramp["connect_s"] = round(max(ramp["connect_s"], rep["ramp"]["connect_s"]), 2)
                for k, v in rep["ramp"]["connect_failures"].items():
                    _bump(ramp["connect_failures"], k, v)
            r.generator_rss_mb = round(r.generator_rss_mb + rep.get("maxrss_mb", 0.0), 1)
        if r.procs_reported < self.procs:
            _bump(r.errors, "generator process lost", self.procs - r.procs_reported)
        if r.window_s:
            r.generator_cpu_pct = round(100 * cpu / r.window_s, 1)
        return r

    def kill(self) -> None:
        self.phase.value = PHASE_STOP
        for p in self.processes:
            if p.is_alive():
                p.kill()


async def run_fleet(cfg: FleetConfig, procs: int, duration: float, during=None) -> FleetResult:
    """Connect, measure for `duration` seconds (calling `await during(duration)` meanwhile
    if given), stop. For the storm: connect (= the storm) and stop."""
    fleet = Fleet(cfg, procs)
    try:
        await fleet.start()
        await fleet.connect()
        if cfg.scenario != "storm":
            fleet.measure()
            if during is not None:
                await during(duration)
            else:
                await asyncio.sleep(duration)
        return await fleet.stop()
    finally:
        fleet.kill()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Simulated OCPP 1.6 chargers against a running server.")
    parser.add_argument("--url", required=True, help="websocket URL with {ident}")
    parser.add_argument("--scenario", choices=["steady", "throughput", "storm"], default="steady")
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--password", default=None)
    parser.add_argument("--first-index", type=int, default=1)
    parser.add_argument("--interval", default="30,60", help="min,max seconds between a charger's calls")
    args = parser.parse_args(argv)
    lo, hi = (float(x) for x in args.interval.split(","))
    cfg = FleetConfig(
        url=args.url,
        scenario=args.scenario,
        chargers=args.chargers,
        password=args.password,
        first_index=args.first_index,
        interval_min=lo,
        interval_max=hi,
        connect_deadline=max(60.0, args.chargers / 50),
    )
    result = asyncio.run(run_fleet(cfg, args.procs, args.duration))
    print(json.dumps(result.summary(), indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
