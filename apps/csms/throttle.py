"""Failed OCPP handshakes per (organisation, identity, client address), in process memory.

After MAX_FAILURES within WINDOW seconds further attempts are refused without looking
at the password, until the window passes. Per process on purpose: no Redis round trip
on the handshake path and nothing that outlives a restart; N processes behind a load
balancer allow N times the rate, still far too slow to guess a 16-character password.
"""

from __future__ import annotations

import time
from collections import OrderedDict

MAX_FAILURES = 10
WINDOW = 300.0
MAX_KEYS = 100_000


class FailureThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW, max_keys: int = MAX_KEYS):
        self.max_failures, self.window, self.max_keys = max_failures, window, max_keys
        self._failures: OrderedDict[tuple, list[float]] = OrderedDict()

    def _recent(self, key: tuple, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def blocked(self, key: tuple, now: float | None = None) -> bool:
        return len(self._recent(key, now or time.monotonic())) >= self.max_failures

    def failed(self, key: tuple, now: float | None = None) -> None:
        now = now or time.monotonic()
        times = self._recent(key, now)
        times.append(now)
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, key: tuple) -> None:
        self._failures.pop(key, None)


handshakes = FailureThrottle()
