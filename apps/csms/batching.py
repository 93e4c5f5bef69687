"""Group commit of MeterValues and StatusNotification across the chargers of one process.

Under load every MeterValues was its own trip to the database pool: a schema switch, a
transaction lookup and a one-row INSERT, each paying Django's per-call overhead while
holding the GIL (a quarter of the server's GIL time at ~460 messages a second). Here the
handlers of all chargers of an organisation hand their requests to one queue; a flush
writes everything queued in one call (`meter_values_record_many`: one lookup, one
INSERT) and only then answers each waiting handler.

- Nothing answered is lost: a handler's await returns only after the batch committed,
  so a charger gets its CALLRESULT only for values already stored (as before).
- Batches size themselves to the load: a flush waits `delay` seconds after the first
  item of an idle queue (a quiet system adds at most that to a MeterValues answer), and
  while a flush is in flight new items wait for it to finish instead of queueing further
  one-item writes in the pool; `max_items` caps one INSERT.
- StatusNotification (a quarter of all traffic) goes the same way through its own queue
  (`connector_status_record_many`: the one-statement upsert of each notification, sent
  in one pipeline).
- One bad item does not fail its neighbours: a failed batch is retried one item at a time,
  so each handler gets the outcome its own request would have had alone — the same
  exception (InternalError to the charger) when it was its item that failed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from apps.chargers import services as chargers
from apps.charging import services as charging
from apps.csms.db import run_in_schema

logger = logging.getLogger(__name__)


@dataclass
class _Queue:
    items: list[tuple[dict, asyncio.Future]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None
    in_flight: int = 0


class GroupCommit:
    """Batches calls of `module.<name>(items=[...]) -> [result per item]` per organisation.
    The function is looked up at each flush, so a test can swap it on its module."""

    def __init__(self, module, name: str, single: str, *, db=run_in_schema, delay: float = 0.002, max_items: int = 200):
        self._module, self._name, self._single = module, name, single
        self._db = db
        self.delay = delay
        self.max_items = max_items
        # Keyed by (event loop, schema): a batch is one database call in one schema, and
        # futures belong to their loop (tests run several loops in one process).
        self._queues: dict[tuple[asyncio.AbstractEventLoop, str], _Queue] = {}
        self._tasks: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones

    def _many(self):
        return getattr(self._module, self._name)

    async def call(self, db, schema: str, **item):
        """What a handler awaits: the batch when the session uses the central system's
        database pool. A session given another `db` (the handler tests run database calls
        inline, without an event loop that could wait for a flush) makes the single call
        (`module.<single>`) through it."""
        if db is not run_in_schema:
            return await db(schema, getattr(self._module, self._single), **item)
        return await self.record(schema, **item)

    async def record(self, schema: str, **item) -> int:
        """The item's call in `schema`, in a batch; returns its result or raises its exception."""
        loop = asyncio.get_running_loop()
        key = (loop, schema)
        queue = self._queues.setdefault(key, _Queue())
        future = loop.create_future()
        queue.items.append((item, future))
        if len(queue.items) >= self.max_items:
            self._flush(key)
        elif queue.timer is None and not queue.in_flight:
            queue.timer = loop.call_later(self.delay, self._flush, key)
        # A handler cancelled here (socket closed) leaves its item queued: it is still written,
        # which is harmless, since the charger retries unanswered requests and duplicates are skipped.
        return await future

    def _flush(self, key) -> None:
        queue = self._queues[key]
        if queue.timer is not None:
            queue.timer.cancel()
            queue.timer = None
        batch, queue.items = queue.items, []
        if not batch:
            return
        queue.in_flight += 1
        task = key[0].create_task(self._write(key, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, key, batch: list[tuple[dict, asyncio.Future]]) -> None:
        schema = key[1]
        try:
            try:
                counts = await self._db(schema, self._many(), items=[item for item, _ in batch])
            except Exception:
                if len(batch) == 1:
                    raise
                logger.warning("meter values batch of %d failed; writing its items one by one", len(batch))
                await self._write_each(schema, batch)
            else:
                for (_, future), count in zip(batch, counts, strict=True):
                    if not future.done():
                        future.set_result(count)
        except Exception as exc:  # a batch of one: its handler gets the exception
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        finally:
            # Only if this task itself was cancelled (loop shutting down): never leave a handler hanging.
            for _, future in batch:
                if not future.done():
                    future.cancel()
            self._done(key)

    async def _write_each(self, schema: str, batch: list[tuple[dict, asyncio.Future]]) -> None:
        # A batch of one through the same function: the same all-or-nothing write, the same
        # exception the single call would raise for that request.
        results = await asyncio.gather(
            *(self._db(schema, self._many(), items=[item]) for item, _ in batch),
            return_exceptions=True,
        )
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result[0])

    def _done(self, key) -> None:
        queue = self._queues[key]
        queue.in_flight -= 1
        if queue.items and queue.timer is None and not queue.in_flight:
            # These waited for the write that just finished: flush them at once.
            self._flush(key)
        elif not queue.items and not queue.in_flight and queue.timer is None:
            del self._queues[key]  # no state kept for idle organisations or finished loops


meter_values = GroupCommit(charging, "meter_values_record_many", "meter_values_record")
statuses = GroupCommit(chargers, "connector_status_record_many", "connector_status_record")


async def meter_values_record(db, schema: str, **item) -> int:
    """What the MeterValues handlers await (GroupCommit.call)."""
    return await meter_values.call(db, schema, **item)


async def connector_status_record(db, schema: str, **item) -> None:
    """What the StatusNotification handlers await (GroupCommit.call)."""
    await statuses.call(db, schema, **item)
