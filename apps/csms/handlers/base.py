"""The protocol-neutral half of an OCPP session: framing, dispatch with the
specification's error codes, one outstanding outbound CALL, and the message log.

A version module subclasses this together with that version's `ocpp` library
ChargePoint, so `@on(Action.x)` handlers route as the library intends while
parsing, validation and errors follow the OCPP-J specification: the library
drops invalid JSON silently, swaps NotImplemented and NotSupported, and maps
schema errors to 2.0.1 codes even for 1.6.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ocpp.charge_point import LOGGER, camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.routing import create_route_map

from apps.csms import messagelog
from apps.csms.db import run_in_schema
from apps.csms.protocol import (
    CALL,
    CALLERROR,
    CALLRESULT,
    CALLRESULTERROR,
    SEND,
    ErrorCodes,
    Frame,
    FrameError,
    call_frame,
    error_frame,
    parse_frame,
    result_frame,
    shown,
    validate,
)

logger = logging.getLogger(__name__)


@dataclass
class ChargerContext:
    schema: str
    charge_point_id: int
    identity: str
    registration_status: str = "Accepted"
    connection_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class _Pending:
    action: str
    future: asyncio.Future
    sent_at: float


@dataclass
class CallOutcome:
    """What came back for an outbound CALL."""

    frame: Frame
    latency_ms: int
    schema_error: str = ""

    @property
    def ok(self) -> bool:
        return self.frame.message_type == CALLRESULT


# The library converts every key of every payload with two regular expressions (camelCase
# to snake_case) or eight str.replace calls (back), on every frame: ~100 us for one
# MeterValues. Keys come from a small vocabulary, so convert each once per process; the
# bound keeps made-up keys from a misbehaving charger from growing the table forever.
_KEY_CACHE_MAX = 4096
_snake_keys: dict[str, str] = {}
_camel_keys: dict[str, str] = {}


def _convert_key(cache: dict[str, str], convert, key: str) -> str:
    converted = cache.get(key)
    if converted is None:
        converted = next(iter(convert({key: None})))
        if len(cache) < _KEY_CACHE_MAX:
            cache[key] = converted
    return converted


def to_snake(data):
    """ocpp.charge_point.camel_to_snake_case, with the key conversion memoised."""
    if isinstance(data, dict):
        return {_convert_key(_snake_keys, camel_to_snake_case, k): to_snake(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_snake(v) for v in data]
    return data


def to_camel(data):
    """ocpp.charge_point.snake_to_camel_case, with the key conversion memoised."""
    if isinstance(data, dict):
        return {_convert_key(_camel_keys, snake_to_camel_case, k): to_camel(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_camel(v) for v in data]
    return data


class SessionBase:
    version: str = ""
    subprotocol: str = ""
    errors: ErrorCodes
    # Every action the version defines, both directions: an action in here without a
    # handler is "recognised but not supported" (NotSupported), anything else is
    # "not known" (NotImplemented) -- OCPP-J 1.6 section 4.2.3, 2.0.1 section 4.3.
    known_actions: frozenset[str] = frozenset()
    outbound_actions: frozenset[str] = frozenset()
    # Charger-initiated actions refused with SecurityError until the charger is Accepted.
    requires_acceptance: frozenset[str] = frozenset()
    # OCPP-J 2.1 framing (CALLRESULTERROR and SEND).
    rpc21: bool = False

    def __init__(self, *, ctx: ChargerContext, send, db=run_in_schema, log=None, response_timeout: float = 30):
        # The library's ChargePoint.__init__ is not called: it builds a route map per
        # connection (hundreds of getattr calls and a dict of bound methods per action,
        # several KB per charger) plus a call lock and response queue that only its own
        # call() uses; we dispatch from a per-class map and call through call_raw().
        self.id = ctx.identity
        self._response_timeout = response_timeout
        self._connection = None
        self.logger = LOGGER
        self._unique_id_generator = uuid.uuid4
        self.ctx = ctx
        self._send_text = send
        self._db = db
        self._log = log or messagelog.buffer.append
        self._pending: dict[str, _Pending] = {}
        self._outbound_lock: asyncio.Lock | None = None  # created with the first command
        self.closed = False

    @classmethod
    def _class_routes(cls) -> dict[str, Any]:
        """action -> the @on handler function of this class (computed once per class)."""
        routes = cls.__dict__.get("_routes_cache")
        if routes is None:
            routes = {
                action: entry["_on_action"] for action, entry in create_route_map(cls).items() if "_on_action" in entry
            }
            cls._routes_cache = routes
        return routes

    @property
    def route_map(self) -> dict[str, dict]:
        """The library's per-instance shape, built on demand (tests and tools read it)."""
        return {
            action: {"_on_action": fn.__get__(self), "_skip_schema_validation": False}
            for action, fn in self._class_routes().items()
        }

    def handler_for(self, action: str):
        fn = self._class_routes().get(action)
        return fn.__get__(self) if fn is not None else self.fallback_handler(action)

    # ------------------------------------------------------------------ helpers for handlers
    async def db(self, fn, /, **kwargs):
        return await self._db(self.ctx.schema, fn, **kwargs)

    def _record(
        self,
        *,
        direction: str,
        message_type: int,
        action: str = "",
        unique_id: str = "",
        payload: Any = None,
        raw: str = "",
        error_code: str = "",
        latency_ms: int | None = None,
    ) -> None:
        try:
            self._log(
                messagelog.entry(
                    schema=self.ctx.schema,
                    charge_point_id=self.ctx.charge_point_id,
                    identity=self.ctx.identity,
                    direction=direction,
                    message_type=message_type,
                    action=action,
                    unique_id=unique_id,
                    payload=payload,
                    raw=raw,
                    error_code=error_code,
                    latency_ms=latency_ms,
                    connection_id=self.ctx.connection_id,
                )
            )
        except Exception:
            logger.exception("message log append failed")

    async def _send(self, text: str) -> None:  # the ocpp library's name for "write a frame"
        await self._send_text(text)

    async def _send_error(
        self,
        unique_id: str,
        code: str,
        description: str,
        details: dict | None = None,
        *,
        action: str = "",
        latency_ms: int | None = None,
    ) -> None:
        self._record(
            direction="out",
            message_type=CALLERROR,
            action=action,
            unique_id=unique_id,
            payload={"errorCode": code, "errorDescription": description, "errorDetails": details or {}},
            error_code=code,
            latency_ms=latency_ms,
        )
        await self._send(error_frame(unique_id, code, description, details))

    # ------------------------------------------------------------------ inbound
    async def route_message(self, raw_msg: str) -> None:
        """Handle one text frame. Never raises: a bad frame gets a CALLERROR, not a closed socket."""
        try:
            await self._route(raw_msg, time.monotonic())
        except Exception:
            # Only sending can fail here (the socket is gone); the consumer's disconnect follows.
            logger.exception("%s: could not handle a frame", self.ctx.identity)

    async def _route(self, raw_msg: str, received: float) -> None:
        try:
            frame = parse_frame(raw_msg, self.errors, rpc21=self.rpc21)
        except FrameError as exc:
            self._record(direction="in", message_type=0, raw=str(raw_msg), error_code=exc.code, unique_id=exc.unique_id)
            if exc.reply:
                await self._send_error(exc.unique_id, exc.code, exc.description, exc.details)
            return
        if frame.message_type in (CALL, SEND):
            self._record(
                direction="in",
                message_type=frame.message_type,
                action=frame.action,
                unique_id=frame.unique_id,
                payload=frame.payload,
            )
            await self._handle_incoming_call(frame, received)
            return
        if frame.message_type == CALLRESULTERROR:
            # The charger could not process one of our answers: history for the support engineer.
            self._record(
                direction="in",
                message_type=CALLRESULTERROR,
                unique_id=frame.unique_id,
                payload={"errorCode": frame.error_code, "errorDescription": frame.error_description},
                error_code=frame.error_code,
            )
            logger.warning("%s: CALLRESULTERROR %s for %s", self.ctx.identity, frame.error_code, frame.unique_id)
            return
        self._handle_response(frame, received)

    def _handle_response(self, frame: Frame, received: float) -> None:
        pending = self._pending.get(frame.unique_id)
        latency = int((received - pending.sent_at) * 1000) if pending else None
        payload = (
            frame.payload
            if frame.message_type == CALLRESULT
            else {
                "errorCode": frame.error_code,
                "errorDescription": frame.error_description,
                "errorDetails": frame.error_details,
            }
        )
        self._record(
            direction="in",
            message_type=frame.message_type,
            action=pending.action if pending else "",
            unique_id=frame.unique_id,
            payload=payload,
            error_code=frame.error_code,
            latency_ms=latency,
        )
        if pending is None or pending.future.done():
            # A late answer to a call we gave up on, or a made-up id: logged, otherwise ignored.
            logger.info("%s: response to unknown message id %s", self.ctx.identity, frame.unique_id)
            return
        pending.future.set_result(frame)

    async def _handle_incoming_call(self, frame: Frame, received: float) -> None:
        def elapsed() -> int:
            return int((time.monotonic() - received) * 1000)

        # Mixins are shared between versions: a route for a 2.1-only action must not answer
        # a 2.0.1 station, whose schema set does not even have that action.
        handler = (
            self.handler_for(frame.action)
            if frame.action in self.known_actions
            else self.fallback_handler(frame.action)
        )
        if frame.message_type == SEND:
            # SEND is unconfirmed: validate and handle, never answer -- not even an error.
            await self._handle_send(frame, handler)
            return
        if handler is None:
            # A known action is at most 36 characters; an unknown one is cut, not echoed back.
            if frame.action in self.known_actions:
                code, text = "NotSupported", f"{frame.action} is recognised but not supported by this CSMS."
            else:
                code, text = "NotImplemented", f"{shown(frame.action)} is not a known action of OCPP {self.version}."
            await self._send_error(frame.unique_id, code, text, action=frame.action, latency_ms=elapsed())
            return
        try:
            validate(
                version=self.version, message_type=CALL, action=frame.action, payload=frame.payload, errors=self.errors
            )
            if frame.action in self.requires_acceptance and self.ctx.registration_status != "Accepted":
                raise FrameError(
                    "SecurityError", f"The charger is {self.ctx.registration_status}, not Accepted.", frame.unique_id
                )
            response = handler(**to_snake(frame.payload))
            if inspect.isawaitable(response):
                response = await response
            payload = response if isinstance(response, dict) else serialize_as_dict(response)
            payload = to_camel(remove_nones(payload))
            validate(
                version=self.version, message_type=CALLRESULT, action=frame.action, payload=payload, errors=self.errors
            )
        except FrameError as exc:
            await self._send_error(
                frame.unique_id, exc.code, exc.description, exc.details, action=frame.action, latency_ms=elapsed()
            )
            return
        except Exception:
            logger.exception("%s: handler for %s failed", self.ctx.identity, frame.action)
            await self._send_error(
                frame.unique_id,
                "InternalError",
                "The CSMS could not process the request.",
                action=frame.action,
                latency_ms=elapsed(),
            )
            return
        self._record(
            direction="out",
            message_type=CALLRESULT,
            action=frame.action,
            unique_id=frame.unique_id,
            payload=payload,
            latency_ms=elapsed(),
        )
        await self._send(result_frame(frame.unique_id, payload))

    def fallback_handler(self, action: str):
        """A handler for an action without an `@on` route, or None (NotSupported)."""
        return None

    async def _handle_send(self, frame: Frame, handler) -> None:
        if handler is None:
            logger.info("%s: SEND %s not handled", self.ctx.identity, shown(frame.action))
            return
        try:
            validate(
                version=self.version, message_type=SEND, action=frame.action, payload=frame.payload, errors=self.errors
            )
            response = handler(**to_snake(frame.payload))
            if inspect.isawaitable(response):
                await response
        except FrameError as exc:
            logger.info("%s: invalid SEND %s: %s", self.ctx.identity, frame.action, exc.description)
        except Exception:
            logger.exception("%s: handler for SEND %s failed", self.ctx.identity, frame.action)

    # ------------------------------------------------------------------ outbound
    async def call_raw(self, action: str, payload: dict, *, timeout: float) -> CallOutcome:
        """Send a CALL and wait for its answer. Only from a task, never from the receive
        path: the answer arrives through that very path."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            if self._outbound_lock is None:
                self._outbound_lock = asyncio.Lock()
            # OCPP-J: at most one outstanding CALL per direction.
            async with self._outbound_lock:
                if self.closed:  # queued behind a call while the charger went away
                    raise ConnectionError("charger disconnected")
                unique_id = str(uuid.uuid4())
                pending = _Pending(action, loop.create_future(), time.monotonic())
                self._pending[unique_id] = pending
                try:
                    self._record(
                        direction="out", message_type=CALL, action=action, unique_id=unique_id, payload=payload
                    )
                    await self._send(call_frame(unique_id, action, payload))
                    frame = await pending.future
                finally:
                    self._pending.pop(unique_id, None)
        outcome = CallOutcome(frame=frame, latency_ms=int((time.monotonic() - pending.sent_at) * 1000))
        if outcome.ok:
            try:
                validate(
                    version=self.version,
                    message_type=CALLRESULT,
                    action=action,
                    payload=frame.payload,
                    errors=self.errors,
                )
            except FrameError as exc:
                # Still hand the answer back: this is the support engineer's raw view of the charger.
                outcome.schema_error = f"{exc.code}: {exc.description}"
        return outcome

    async def after_command(self, action: str, payload: dict, outcome: CallOutcome) -> None:
        """Store what an answered command tells us (e.g. configuration). Versions override."""

    def close(self) -> None:
        self.closed = True
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(ConnectionError("charger disconnected"))
        self._pending.clear()
