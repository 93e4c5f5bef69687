"""The hardware log: every OCPP frame in and out, written in bulk off the hot path.

Sessions append to a per-process buffer (a list append, no I/O); a background
task flushes it every FLUSH_SECONDS or FLUSH_SIZE entries with one COPY per
organisation schema. The same flush refreshes the chargers' last_seen (one
UPDATE per batch), first and on its own: a log that cannot be written must never
make healthy chargers look dead. A row PostgreSQL would refuse (a field over its
column, a NUL, a payload over OCPP_LOG_MAX_PAYLOAD_BYTES) is stored cut or cleaned
with a note under NOTE; it never costs the rest of the batch. A process killed
hard loses at most one flush interval of log.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context

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
# A payload's JSON (or an unparseable frame's text) longer than this is stored cut to it.
PAYLOAD_MAX = settings.OCPP_LOG_MAX_PAYLOAD_BYTES
# Deeper than this a payload is cut when it has to be cleaned (inbound frames never are:
# protocol.parse_frame refuses them).
DEPTH_MAX = settings.OCPP_MAX_FRAME_DEPTH
# A row not stored as sent carries {NOTE: {field: what was done}, "payload": ...} as its
# payload: cut, cleaned or replaced, it is still there, and says so.
NOTE = "_evzone_log"
# MessageLog's column widths (models.py): one value over them failed the batch's COPY.
_WIDTHS = (("identity", 48), ("action", 64), ("unique_id", 64), ("error_code", 40))
_NUL = "NUL characters replaced by U+FFFD"


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
    # Called for every frame: nothing here but the redaction (secrets never reach the buffer)
    # and a bound on what the buffer holds; the writer thread checks the rest.
    raw = raw or ""
    return {
        "schema": schema,
        "connection_id": connection_id,
        "charge_point_id": charge_point_id,
        "identity": identity,
        "direction": direction,
        "message_type": message_type,
        "action": action or "",
        "unique_id": unique_id or "",
        "payload": redact(action, payload),
        "raw": raw if len(raw) <= PAYLOAD_MAX else raw[:PAYLOAD_MAX],
        "raw_length": len(raw),
        "error_code": error_code or "",
        "latency_ms": latency_ms,
        "timestamp": datetime.now(UTC),
    }


# ---------------------------------------------------------------------------------- rows


def _clean_str(value: str, notes: dict, name: str) -> str:
    # PostgreSQL stores neither NUL (text or jsonb) nor a lone surrogate (a charger can send
    # "\ud800" as JSON); both are replaced, and the row says so.
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
        notes[name] = _NUL
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode()
            notes[name] = "invalid Unicode (lone surrogates) replaced"
    return value


def _cut(data: bytes, notes: dict, name: str) -> str:
    notes[name] = f"truncated: {len(data)} bytes, the first {PAYLOAD_MAX} kept"
    return data[:PAYLOAD_MAX].decode("utf-8", "ignore")


def _sanitised(value, notes: dict):
    """A copy of a payload PostgreSQL will store: strings (keys too) cleaned, anything not
    JSON as text, nesting cut at DEPTH_MAX. Iterative: this is where a payload 500 levels
    deep raised RecursionError and cost the organisation's whole flush."""
    root = [value]
    stack = [(root, 0, 0)]
    while stack:
        parent, key, depth = stack.pop()
        node = parent[key]
        if isinstance(node, str):
            parent[key] = _clean_str(node, notes, "payload")
        elif node is None or isinstance(node, bool | int):
            pass
        elif isinstance(node, float):
            if not math.isfinite(node):
                parent[key] = str(node)
                notes["payload"] = "a number JSON cannot hold kept as text"
        elif isinstance(node, dict | list | tuple):
            if depth >= DEPTH_MAX:
                parent[key] = f"(nested deeper than {DEPTH_MAX} levels, not kept)"
                notes["payload"] = f"cut below {DEPTH_MAX} levels of nesting"
            elif isinstance(node, dict):
                copy = {}
                for k, v in node.items():
                    k = _clean_str(k if isinstance(k, str) else str(k), notes, "payload")
                    copy[k] = v
                    stack.append((copy, k, depth + 1))
                parent[key] = copy
            else:
                copy = list(node)
                parent[key] = copy
                stack.extend((copy, i, depth + 1) for i in range(len(copy)))
        else:  # a Decimal or anything else a payload of ours might carry
            parent[key] = str(node)
    return root[0]


def _field(value, width: int, notes: dict, name: str, careful: bool) -> str:
    if careful:
        value = _clean_str(str(value), notes, name)
    elif "\x00" in value:
        value = value.replace("\x00", "\ufffd")
        notes[name] = _NUL
    if len(value) > width:
        notes[name] = f"truncated: {len(value)} characters, the first {width} kept"
        value = value[:width]
    return value


def _row(item: dict, *, careful: bool = False) -> tuple:
    """The COPY row of an entry, within the columns' limits, with a note for what had to be
    changed. The quick checks (lengths, C substring scans) find what PostgreSQL would refuse;
    `careful` also rebuilds the payload, for what they cannot see."""
    notes: dict[str, str] = {}
    identity, action, unique_id, error_code = item["identity"], item["action"], item["unique_id"], item["error_code"]
    # One expression of O(1) lengths and C scans for the usual, clean row (this runs for every
    # frame in the writer thread, which shares the GIL with the event loop).
    if (
        careful
        or len(identity) > 48
        or len(action) > 64
        or len(unique_id) > 64
        or len(error_code) > 40
        or "\x00" in identity
        or "\x00" in action
        or "\x00" in unique_id
        or "\x00" in error_code
    ):
        identity, action, unique_id, error_code = (
            _field(item[name], width, notes, name, careful) for name, width in _WIDTHS
        )
    raw = item["raw"]
    if raw:
        if careful:
            raw = _clean_str(raw, notes, "raw")
        elif "\x00" in raw:
            raw = raw.replace("\x00", "\ufffd")
            notes["raw"] = _NUL
        if item.get("raw_length", 0) > len(raw) or (len(raw) * 4 > PAYLOAD_MAX and len(raw.encode()) > PAYLOAD_MAX):
            raw = raw.encode()[:PAYLOAD_MAX].decode("utf-8", "ignore")
            notes["raw"] = f"truncated: {item.get('raw_length', len(raw))} characters, the first {len(raw)} kept"
    payload = item["payload"]
    text, cut = None, False
    if payload is not None:
        if careful:
            data = json_text(_sanitised(payload, notes)).encode()
        else:
            try:
                data = orjson.dumps(payload)
            except TypeError:
                # What orjson refuses: integers beyond 64 bits (fine), but also nesting over
                # 255 levels, lone surrogates, non-string keys: the careful path sorts it out.
                return _row(item, careful=True)
            if b"\\u0000" in data:  # orjson writes NUL as \u0000, which jsonb refuses
                return _row(item, careful=True)
        cut = len(data) > PAYLOAD_MAX
        text = _cut(data, notes, "payload") if cut else data.decode()
    if notes:
        # The payload under "payload" (the start of its JSON text when cut), the note beside
        # it; composed as text, so a payload is still serialised once.
        kept = json_text(text) if cut else text or "null"
        text = f'{{"{NOTE}":{json_text(notes)},"payload":{kept}}}'
    return (
        item["charge_point_id"],
        identity,
        item["direction"],
        item["message_type"],
        action,
        unique_id,
        text,
        raw,
        error_code,
        item["latency_ms"],
        item["timestamp"],
    )


def _minimal(item: dict, exc: BaseException) -> tuple:
    """What is left of an entry nothing else would store: who, when, and why not more."""

    def ascii_(value, width: int) -> str:
        return str(value or "").encode("ascii", "replace").decode().replace("\x00", "?")[:width]

    note = {NOTE: {"row": f"not stored as sent ({type(exc).__name__}); the server log has more"}}
    return (
        int(item.get("charge_point_id") or 0),
        ascii_(item.get("identity"), 48),
        item.get("direction") if item.get("direction") in ("in", "out") else "in",
        int(item.get("message_type") or 0),
        ascii_(item.get("action"), 64),
        ascii_(item.get("unique_id"), 64),
        json_text(note),
        "",
        ascii_(item.get("error_code"), 40),
        item.get("latency_ms") if isinstance(item.get("latency_ms"), int) else None,
        item.get("timestamp") or datetime.now(UTC),
    )


def _prepared(item: dict) -> tuple:
    try:
        return _row(item)
    except Exception:  # noqa: BLE001 - RecursionError included: one entry, never the batch
        try:
            return _row(item, careful=True)
        except Exception as exc:  # noqa: BLE001
            logger.warning("message log: a frame of %s stored without content", item.get("identity"), exc_info=True)
            return _minimal(item, exc)


# MessageLog columns in the order _row builds them.
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


def _copy(rows: list[tuple]) -> None:
    """COPY the rows in: the log is half of all rows the central system writes, and a
    multi-row INSERT through the ORM spent most of its time quoting parameters in Python
    (psycopg's client-side binding); COPY's row writer is psycopg's C code."""
    qn = connection.ops.quote_name
    sql = f"COPY {qn(MessageLog._meta.db_table)} ({', '.join(qn(c) for c in _COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _log_write(schema: str, items: list[dict]) -> None:
    rows = [_prepared(item) for item in items]
    try:
        with transaction.atomic():
            _copy(rows)
        return
    except Exception:  # noqa: BLE001 - COPY's errors come straight from psycopg, unwrapped
        pass
    # A row PostgreSQL still refuses must not cost the batch: one by one, each retried
    # cleaned and then without content before it counts as lost.
    for done, (item, row) in enumerate(zip(items, rows, strict=True)):
        error = _insert_one(row) or _insert_one(_attempt(_row, item, careful=True))
        if error is not None:
            error = _insert_one(_minimal(item, error))
        if error is not None:
            # Not even a row without content went in: the table or the database is the
            # problem, not the frame, and the rest would fail the same way.
            logger.error("message log: could not write %d entries for %s", len(items) - done, schema, exc_info=error)
            return


def _attempt(build, item: dict, **kwargs) -> tuple | Exception:
    try:
        return build(item, **kwargs)
    except Exception as exc:  # noqa: BLE001 - RecursionError included
        return exc


def _insert_one(row: tuple | Exception) -> Exception | None:
    """None when the row went in, else what stopped it."""
    if isinstance(row, Exception):
        return row
    try:
        with transaction.atomic():
            _copy([row])
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def _liveness_keep(schema: str, items: list[dict]) -> None:
    """last_seen, the revival of chargers the stale sweep took for dead, and the password
    cache entries of chargers that keep talking. They ride on the log's flush (one UPDATE per
    batch, not per frame) but never on its success: each part fails on its own."""
    seen = {i["charge_point_id"]: i["connection_id"] for i in items if i["direction"] == "in" and i["charge_point_id"]}
    if not seen:
        return
    try:
        with transaction.atomic():
            # last_seen is at most one flush interval early.
            charge_points_touch(charge_point_ids=seen, at=max(i["timestamp"] for i in items))
            charge_points_revive(connections=seen)
    except Exception:
        logger.exception("message log: could not refresh last_seen of %d chargers of %s", len(seen), schema)
    try:
        shared_entries_keep(schema=schema, charge_point_ids=seen)
    except Exception:
        logger.exception("message log: could not keep the password cache entries of %s", schema)


def write_entries(*, entries: list[dict]) -> None:
    """Synchronous bulk write, grouped by schema: liveness first, then the log."""
    by_schema: dict[str, list[dict]] = defaultdict(list)
    for item in entries:
        by_schema[item["schema"]].append(item)
    for schema, items in by_schema.items():
        try:
            with schema_context(schema):
                _liveness_keep(schema, items)
                _log_write(schema, items)
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
