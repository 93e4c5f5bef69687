"""The hardware log: every OCPP frame in and out, written in bulk off the hot path.

Sessions append to a per-process buffer (a list append, no I/O); a background
task flushes it every FLUSH_SECONDS or FLUSH_SIZE entries with one bulk INSERT
per organisation schema, and refreshes the chargers' last_seen in the same
round trip. A process killed hard loses at most one flush interval of log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime

import psycopg

from apps.chargers.passwords import shared_entries_keep
from apps.chargers.services import charge_points_revive, charge_points_touch
from apps.csms.db import run_in_public
from apps.csms.models import MessageLog
from apps.csms.protocol import json_text
from apps.csms.redact import redact

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
FLUSH_SIZE = 1000
# Beyond this the database is not keeping up; drop the oldest rather than eat memory.
MAX_BUFFER = 100_000
_PAYLOAD_LIMIT = 64_000


# Keys of an entry that are not MessageLog fields.
_META = ("schema", "connection_id")


def entry(
    *,
    schema: str,
    charge_point_id: int,
    identity: str,
    direction: str,
    message_type: int,
    action: str = "",
    unique_id: str = "",
    payload=None,
    raw: str = "",
    error_code: str = "",
    latency_ms: int | None = None,
    connection_id: str = "",
) -> dict:
    return {
        "schema": schema,
        "connection_id": connection_id,
        "charge_point_id": charge_point_id,
        "identity": identity,
        "direction": direction,
        "message_type": message_type,
        "action": action or "",
        "unique_id": (unique_id or "")[:64],
        "payload": redact(action, payload),
        "raw": (raw or "")[:_PAYLOAD_LIMIT],
        "error_code": error_code or "",
        "latency_ms": latency_ms,
        "timestamp": datetime.now(UTC),
    }


def _clean(value):
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


# MessageLog columns in the order _copy writes them.
_COLUMNS = (
    "charge_point_id",
    "identity",
    "direction",
    "message_type",
    "action",
    "unique_id",
    "payload",
    "raw",
    "error_code",
    "latency_ms",
    "timestamp",
)


def _copy(items: list[dict]) -> None:
    """COPY the rows in: the log is half of all rows the central system writes, and a
    multi-row INSERT through the ORM spent most of its time quoting parameters in Python
    (psycopg's client-side binding); COPY's row writer is psycopg's C code."""
    from django.db import connection

    qn = connection.ops.quote_name
    sql = f"COPY {qn(MessageLog._meta.db_table)} ({', '.join(qn(c) for c in _COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for item in items:
            payload = item["payload"]
            copy.write_row(
                (
                    item["charge_point_id"],
                    item["identity"],
                    item["direction"],
                    item["message_type"],
                    item["action"],
                    item["unique_id"],
                    None if payload is None else json_text(payload),
                    item["raw"],
                    item["error_code"],
                    item["latency_ms"],
                    item["timestamp"],
                )
            )


def write_entries(*, entries: list[dict]) -> None:
    """Synchronous bulk write, grouped by schema."""
    from django.db import DatabaseError, transaction
    from django_tenants.utils import schema_context

    by_schema: dict[str, list[dict]] = defaultdict(list)
    for item in entries:
        by_schema[item["schema"]].append(item)
    for schema, items in by_schema.items():
        try:
            with schema_context(schema):
                copied = False
                try:
                    with transaction.atomic():
                        _copy(items)
                    copied = True
                except (DatabaseError, psycopg.Error, TypeError, ValueError):
                    # A value COPY refuses (a NUL character in a string; COPY's errors come
                    # straight from psycopg, unwrapped by Django): the careful path below.
                    pass
                rows = (
                    []
                    if copied
                    else [MessageLog(**{k: v for k, v in item.items() if k not in _META}) for item in items]
                )
                try:
                    if rows:
                        with transaction.atomic():
                            MessageLog.objects.bulk_create(rows)
                except DatabaseError:
                    # One frame PostgreSQL refuses (a NUL character in a string) must not cost
                    # the whole batch: clean and insert one by one, dropping what still fails.
                    for row in rows:
                        row.pk, row.payload, row.raw = None, _clean(row.payload), _clean(row.raw)
                        try:
                            with transaction.atomic():
                                row.save()
                        except DatabaseError:
                            logger.warning("message log: dropped a frame of %s", row.identity)
                seen = {
                    i["charge_point_id"]: i["connection_id"]
                    for i in items
                    if i["direction"] == "in" and i["charge_point_id"]
                }
                if seen:
                    # One UPDATE for the batch: last_seen is at most one flush interval early.
                    charge_points_touch(charge_point_ids=seen, at=max(i["timestamp"] for i in items))
                    charge_points_revive(connections=seen)
                    # Their password-check cache entries live as long as they keep talking.
                    shared_entries_keep(schema=schema, charge_point_ids=seen)
        except Exception:
            # The log must never take the central system down; lose this batch, keep going.
            logger.exception("message log: could not write %d entries for %s", len(items), schema)


class MessageLogBuffer:
    def __init__(self, writer=write_entries):
        self._items: list[dict] = []
        self._writer = writer
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._loop = None

    def append(self, item: dict) -> None:
        self._items.append(item)
        if len(self._items) > MAX_BUFFER:
            del self._items[: len(self._items) - MAX_BUFFER]
        self._ensure_task()
        if len(self._items) >= FLUSH_SIZE and self._wake is not None:
            self._wake.set()

    def _ensure_task(self) -> None:
        # Called for every frame: no get_running_loop() unless needed (on Python 3.11 each
        # call makes a getpid() system call). A writer task that finished, or whose loop was
        # closed (tests run one loop after another), is replaced.
        if self._task is not None and not self._task.done() and not self._loop.is_closed():
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        if not self._items:
            return
        items, self._items = self._items, []
        started = time.monotonic()
        await run_in_public(self._writer, entries=items)
        logger.debug("message log: wrote %d entries in %.1f ms", len(items), (time.monotonic() - started) * 1000)


buffer = MessageLogBuffer()
