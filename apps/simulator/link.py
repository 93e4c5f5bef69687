"""What every virtual charger does whatever its OCPP version: the connection life cycle with
reconnects and backoff, HTTP Basic auth, boot-then-work, the heartbeat, and the single ordered
outbound queue whose transaction messages survive a lost connection.

A protocol subclass (Charger16, Charger2) supplies the subprotocol, its ChargePoint class, the
boot sequence and the payloads; see the hooks at the top of ChargerLink.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import deque
from urllib.parse import urlsplit

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from apps.simulator.state import Queued, SimOptions, Stats, cancel_and_wait

log = logging.getLogger("evzone.simulator")

CONNECT_ERRORS = (OSError, asyncio.TimeoutError, WebSocketException)


class ChargerLink:
    # ------------------------------------------------------------------ hooks for a protocol

    subprotocol = ""
    sessions_scheduler_running = False

    def make_cp(self, ws):
        raise NotImplementedError

    async def boot(self) -> None:
        """BootNotification until Accepted; must end by calling accept() (or raise)."""
        raise NotImplementedError

    def heartbeat_payload(self):
        raise NotImplementedError

    def heartbeat_interval(self) -> int:
        raise NotImplementedError

    def tx_attempts(self) -> int:
        return 3

    def tx_retry_interval(self) -> int:
        return 10

    def _report_all_statuses(self) -> None:
        pass

    def background_loops(self) -> list:
        """Coroutines that run while the charger is accepted (besides heartbeat and sender)."""
        return []

    async def _reboot_now(self) -> None:
        raise NotImplementedError

    async def session_scheduler(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ shared state

    def _init_link(self, identity: str, options: SimOptions, stats: Stats, rng) -> None:
        self.identity = identity
        self.options = options
        self.stats = stats
        self.rng = rng
        self.password = options.password
        self.tx_queue: deque[Queued] = deque()
        self._tx_wakeup = asyncio.Event()
        self._hb_wakeup = asyncio.Event()
        self.cp = None
        self.registration: str | None = None
        self.online = False
        self.boots = 0
        self._reboot_reason: str | None = None
        self._reboot = asyncio.Event()
        self._booted = asyncio.Event()
        self._stop = asyncio.Event()
        self.winding_down = False
        self._tasks: set[asyncio.Task] = set()
        self.sessions: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ plumbing

    def spawn(self, coro, *, session: bool = False) -> asyncio.Task:
        """Run a follow-up as its own task (never inside a handler) and keep a reference to it."""
        task = asyncio.create_task(self._guard(coro))
        bucket = self.sessions if session else self._tasks
        bucket.add(task)
        task.add_done_callback(bucket.discard)
        return task

    async def _guard(self, coro):
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.fail(logging.ERROR, "%s: background task failed: %r", self.identity, exc)
            log.debug("%s: traceback", self.identity, exc_info=True)

    def fail(self, level: int, fmt: str, *args) -> None:
        self.stats.errors += 1
        self.stats.last_error = (fmt % args)[:160]
        log.log(level, fmt, *args)

    async def send(self, payload, *, before_accept: bool = False):
        """Send a non-transactional CALL and return the answer; None when offline or refused,
        in which case it is dropped, as a charger would."""
        if before_accept:
            return await self._call_direct(payload)
        if not self.online:
            return None
        future = asyncio.get_running_loop().create_future()
        self.enqueue(Queued(build=lambda: payload, kind=type(payload).__name__, transactional=False, future=future))
        return await future

    async def _call_direct(self, payload):
        cp = self.cp
        if cp is None:
            return None
        try:
            return await cp.call(payload, suppress=False)
        except OCPPError as exc:
            self.fail(logging.INFO, "%s: %s answered with CALLERROR %s", self.identity, type(payload).__name__, exc)
        except CONNECT_ERRORS as exc:
            self.fail(logging.INFO, "%s: %s not answered: %r", self.identity, type(payload).__name__, exc)
        return None

    def enqueue(self, item: Queued, *, front: bool = False) -> Queued:
        if front:
            self.tx_queue.appendleft(item)
        else:
            self.tx_queue.append(item)
        self._tx_wakeup.set()
        return item

    def _drop_volatile(self) -> None:
        for item in [i for i in self.tx_queue if not i.transactional]:
            self.tx_queue.remove(item)
            item.resolve(None)

    # ------------------------------------------------------------------ life cycle

    def stop(self) -> None:
        self._stop.set()

    async def wind_down(self) -> None:
        """End running sessions as a driver would before going away, so the CSMS is not left with
        transactions that never stop (the caller bounds how long this may take)."""
        self.winding_down = True
        for connector in self.connectors.values():
            if connector.tx is not None:
                connector.tx.stop("Local")
        await asyncio.gather(*list(self.sessions), return_exceptions=True)
        while self.tx_queue and self.online:
            await asyncio.sleep(0.05)

    def request_reboot(self, reason: str) -> None:
        self._reboot_reason = reason
        self._reboot.set()

    def _url(self) -> str:
        return self.options.url.rstrip("/") + "/" + self.identity

    def _connect(self):
        headers = {}
        if self.password:
            token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        kwargs = {}
        host = urlsplit(self.options.url).hostname or ""
        if host.endswith(".localhost"):
            # RFC 6761 names; the OS resolver here does not map them, browsers and curl do.
            kwargs["host"] = "127.0.0.1"
        return connect(
            self._url(),
            subprotocols=[self.subprotocol],
            additional_headers=headers,
            proxy=None,
            # Chargers in the field do not negotiate permessage-deflate; it also costs memory per socket.
            compression=None,
            open_timeout=self.options.call_timeout,
            ping_interval=None,
            **kwargs,
        )

    async def run(self) -> None:
        delay = self.options.reconnect_min
        while not self._stop.is_set():
            was_accepted = False
            try:
                async with self._connect() as ws:
                    if ws.subprotocol != self.subprotocol:
                        self.fail(logging.WARNING, "%s: server chose subprotocol %r", self.identity, ws.subprotocol)
                    self.cp = self.make_cp(ws)
                    self.stats.connected += 1
                    try:
                        await self._serve(ws)
                    finally:
                        self.stats.connected -= 1
                        was_accepted = self.online
                        if was_accepted:
                            self.stats.accepted -= 1
                        self.online, self.cp, self.registration = False, None, None
                        self._drop_volatile()
                if was_accepted:
                    delay = self.options.reconnect_min
            except CONNECT_ERRORS as exc:
                self.fail(logging.INFO, "%s: connection failed: %r", self.identity, exc)
            if self._stop.is_set():
                break
            if self._reboot.is_set():
                await self._reboot_now()
                continue
            # Full jitter so a thousand chargers cut off together do not return together.
            await self._sleep_or_stop(self.rng.uniform(delay / 2, delay))
            delay = min(delay * 2, self.options.reconnect_max)

    async def _sleep_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _serve(self, ws) -> None:
        watch = [
            asyncio.create_task(self.cp.start()),
            asyncio.create_task(self._stop.wait()),
            asyncio.create_task(self._reboot.wait()),
        ]
        booting = asyncio.create_task(self.boot())
        tasks = [*watch, booting]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if booting.done() and booting.exception() is None:
                self._report_all_statuses()
                workers = [
                    asyncio.create_task(self._heartbeat_loop()),
                    asyncio.create_task(self._sender()),
                    *(asyncio.create_task(loop) for loop in self.background_loops()),
                ]
                tasks += workers
                if self.options.session_every and not self.sessions_scheduler_running:
                    self.sessions_scheduler_running = True
                    self.spawn(self.session_scheduler())
                done, _ = await asyncio.wait([*watch, *workers], return_when=asyncio.FIRST_COMPLETED)
                for task in set(workers) & done:
                    if task.exception() is not None:
                        log.info("%s: %r", self.identity, task.exception())
            elif booting.done():
                self.fail(logging.INFO, "%s: boot failed: %r", self.identity, booting.exception())
        finally:
            await cancel_and_wait(tasks)
            await ws.close()

    async def _heartbeat_loop(self) -> None:
        while True:
            self._hb_wakeup.clear()
            interval = self.heartbeat_interval() or self.options.heartbeat
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._hb_wakeup.wait(), interval)
                continue  # the interval changed: start a fresh wait with the new value
            await self.send(self.heartbeat_payload())

    async def _sender(self) -> None:
        """Deliver the queue in order, one CALL at a time (OCPP allows one outstanding call)."""
        while True:
            while not self.tx_queue:
                self._tx_wakeup.clear()
                await self._tx_wakeup.wait()
            item = self.tx_queue[0]
            payload = item.build()
            if payload is None:
                self.tx_queue.popleft()
                item.resolve(None)
                continue
            try:
                result = await self.cp.call(payload, suppress=False)
            except OCPPError as exc:
                item.attempts += 1
                self.fail(logging.INFO, "%s: %s refused: %s", self.identity, type(payload).__name__, exc)
                if not item.transactional or item.attempts >= max(1, self.tx_attempts()):
                    self.tx_queue.popleft()
                    item.resolve(None)
                else:
                    await asyncio.sleep(self.tx_retry_interval() * item.attempts)
                continue
            except TimeoutError:
                self.fail(logging.INFO, "%s: %s not answered in time", self.identity, type(payload).__name__)
                if not item.transactional:
                    self.tx_queue.popleft()
                    item.resolve(None)
                # A transaction message stays at the head: retried now or on the next connection.
                continue
            self.tx_queue.popleft()
            item.resolve(result)
