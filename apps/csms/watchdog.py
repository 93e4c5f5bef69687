"""Event-loop stall watchdog (OCPP_LOOP_WATCHDOG_MS, off by default).

Every charger of a web process shares one event loop: anything that holds it (a slow
synchronous call, a big garbage collection, a loop over thousands of connections) delays
every charger's answer at once, which shows up as a p99 far above p50 while the CPU is
idle. With the setting on, a daemon thread checks that the loop ran a tick recently and,
when it has been stuck longer than the threshold, logs where the loop thread is at that
moment (its Python stack) and how long the stall lasted -- the stack that explains a
latency spike, found in production without a profiler attached.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
import traceback

from django.conf import settings

logger = logging.getLogger(__name__)

_started: set[int] = set()  # ids of the loops watched in this process
_lock = threading.Lock()


def threshold_ms() -> int:
    return int(settings.OCPP_LOOP_WATCHDOG_MS)


def ensure_started() -> None:
    """Watch the running loop (once per loop) when OCPP_LOOP_WATCHDOG_MS is set."""
    limit = threshold_ms()
    if limit <= 0:
        return
    loop = asyncio.get_running_loop()
    with _lock:
        if id(loop) in _started:
            return
        _started.add(id(loop))
    Watchdog(loop, limit / 1000).start()
    gc.callbacks.append(_GcTimer(limit / 1000))


class _GcTimer:
    """Logs garbage collections that took longer than the threshold (they stop every thread)."""

    def __init__(self, limit: float):
        self.limit = limit
        self.started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        took = time.perf_counter() - self.started
        if took >= self.limit / 2:
            logger.warning(
                "garbage collection of generation %d took %.0f ms (%d collected)",
                info.get("generation", -1),
                took * 1000,
                info.get("collected", 0),
            )


class Watchdog:
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: float, tick: float | None = None):
        self.loop = loop
        self.limit = limit
        self.tick = tick if tick is not None else min(0.05, limit / 4)
        self.last_tick = time.monotonic()
        self.loop_thread = threading.get_ident()
        self.stalls = 0

    def start(self) -> None:
        self._schedule()
        threading.Thread(target=self._watch, name="ocpp-loop-watchdog", daemon=True).start()

    def _schedule(self) -> None:
        self.last_tick = time.monotonic()
        if not self.loop.is_closed():
            self.loop.call_later(self.tick, self._schedule)

    def _watch(self) -> None:
        reported_for = None
        while not self.loop.is_closed():
            time.sleep(self.tick)
            stuck = time.monotonic() - self.last_tick
            if stuck < self.limit:
                if reported_for is not None:
                    logger.warning("event loop stall ended after %.0f ms", (time.monotonic() - reported_for) * 1000)
                    reported_for = None
                continue
            if reported_for is None:
                # One stack per stall, taken while it lasts: that is where the loop is stuck.
                reported_for = self.last_tick
                self.stalls += 1
                frame = sys._current_frames().get(self.loop_thread)
                stack = "".join(traceback.format_stack(frame)) if frame is not None else "(no frame)"
                logger.warning("event loop stuck for %.0f ms so far; loop thread at:\n%s", stuck * 1000, stack)
