"""Options, counters and the per-connector state of a virtual charger."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def now_iso() -> str:
    # Millisecond precision with a Z suffix: what most chargers send and every CSMS parses.
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    # OCPP requires UTC; a CSMS that omits the offset means UTC, and naive values cannot be compared.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class SimOptions:
    url: str
    count: int = 1
    protocol: str = "1.6"
    password: str | None = None
    prefix: str = "SIM-"
    first_index: int = 1
    connectors: int = 2
    # Used until the CSMS names an interval in BootNotification.conf (and when it says 0).
    heartbeat: int = 60
    meter_interval: int = 30
    # Mean seconds between locally started sessions per charger; 0 = only remote starts.
    session_every: float = 0
    duration: float = 0
    seed: int | None = None
    id_tags: tuple[str, ...] = ("SIM-TAG-0001", "SIM-TAG-0002", "SIM-TAG-0003", "SIM-TAG-0004")
    vendor: str = "EVzone"
    model: str = "EVZ-Sim-22"
    firmware: str = "1.4.2"
    max_power_w: float = 22_000
    # Simulated seconds per real second for energy: lets a short demo show plausible kWh.
    speedup: float = 1.0
    # Pause between steps of multi-message flows (firmware, diagnostics, unplugging).
    step_delay: float = 2.0
    boot_retry: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    call_timeout: float = 30.0
    progress_every: float = 5.0

    def identity(self, n: int) -> str:
        return f"{self.prefix}{self.first_index + n:04d}"


@dataclass
class Stats:
    chargers: int = 0
    connected: int = 0
    accepted: int = 0
    sessions_started: int = 0
    sessions_active: int = 0
    messages_in: int = 0
    messages_out: int = 0
    errors: int = 0
    last_error: str = ""

    @property
    def messages(self) -> int:
        return self.messages_in + self.messages_out

    def line(self, elapsed: float) -> str:
        return (
            f"[{elapsed:7.1f}s] connected {self.connected}/{self.chargers} "
            f"(accepted {self.accepted})  sessions {self.sessions_active} active / "
            f"{self.sessions_started} started  messages {self.messages} "
            f"(in {self.messages_in} / out {self.messages_out})  errors {self.errors}"
            # While chargers are missing, say why: a wrong URL or password shows up here at once.
            + (f"  last: {self.last_error}" if self.last_error and self.connected < self.chargers else "")
        )


_local_ids = itertools.count(1)


@dataclass
class Transaction:
    connector_id: int
    id_tag: str
    meter_start: int
    started_at: str
    reservation_id: int | None = None
    # Assigned by the CSMS in StartTransaction.conf; None while that is still queued (offline).
    id: int | None = None
    local_id: int = field(default_factory=lambda: next(_local_ids))
    stop_reason: str | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    transaction_data: list[dict] = field(default_factory=list)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopped.set()


@dataclass
class Reservation:
    id: int
    connector_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass
class Connector:
    id: int
    status: str = "Available"
    error_code: str = "NoError"
    operative: bool = True
    # ChangeAvailability answered Scheduled: applied when the running transaction ends.
    pending_operative: bool | None = None
    reservation: Reservation | None = None
    tx: Transaction | None = None
    # Set between a RemoteStart being accepted and its session task starting, so a
    # second RemoteStart in that window cannot claim the same connector.
    claimed: bool = False
    energy_wh: float = 0.0
    ev: object | None = None  # meter.EVSession while a car is charging

    @property
    def free(self) -> bool:
        return (
            self.operative
            and self.tx is None
            and not self.claimed
            and self.status in ("Available", "Preparing", "Reserved")
        )

    def idle_status(self) -> str:
        if not self.operative:
            return "Unavailable"
        if self.reservation is not None:
            return "Reserved"
        return "Available"


async def cancel_and_wait(tasks) -> None:
    """Cancel until done. Python 3.11's wait_for (used inside the ocpp library's call) can swallow
    a cancellation that coincides with its result, so a single cancel() may leave a loop running."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.2)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: a failure was already counted or is a normal disconnect


@dataclass
class Queued:
    """One outbound CALL. Everything after boot goes through a single ordered queue, so a
    StatusNotification can never overtake the StartTransaction it follows.

    Transaction messages are built when sent (they may need an id learnt meanwhile) and
    survive disconnects (4.7); other messages are dropped when the connection goes."""

    build: Callable[[], object | None]
    kind: str = ""  # the action, for logs and tests: build() may not be callable yet
    on_result: Callable[[object], None] | None = None
    transactional: bool = True
    future: asyncio.Future | None = None
    attempts: int = 0

    def resolve(self, result) -> None:
        if self.on_result is not None and result is not None:
            self.on_result(result)
        if self.future is not None and not self.future.done():
            self.future.set_result(result)
