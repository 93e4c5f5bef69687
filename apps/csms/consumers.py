"""One websocket consumer per connected charger.

Handshake: tenant (middleware) → identity and credentials → subprotocol → accept.
Then every text frame goes to the version's session; commands from other
processes arrive as channel-layer group messages and run as tasks, because a
consumer handles one message at a time and the charger's answer to a command
arrives through the same receive path the command would otherwise block.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from apps.chargers.services import charge_point_disconnected
from apps.csms import throttle, watchdog
from apps.csms.commands import charger_group, command_finish
from apps.csms.db import run_command_bookkeeping, run_in_schema
from apps.csms.handlers import negotiate_subprotocol, session_class
from apps.csms.handlers.base import ChargerContext
from apps.csms.middleware import deny
from apps.csms.models import Command
from apps.csms.services import connection_authorize

logger = logging.getLogger(__name__)

# Security profile 3 behind a TLS-terminating proxy: the header in which the proxy
# passes the verified client certificate's common name (e.g. nginx's
# $ssl_client_s_dn_cn). Only set it when the proxy strips that header from clients.
CLIENT_CERT_HEADER = settings.OCPP_CLIENT_CERT_HEADER.lower().encode()


# redis-py 8 pools allow 100 connections and raise (not wait) beyond that; a reconnect
# storm of hundreds of chargers would otherwise fail handshakes. Channels' own receive
# loop needs a few connections too, so our calls take at most this many.
_LAYER_SLOTS = asyncio.Semaphore(settings.OCPP_LAYER_CONCURRENCY)


class _GroupKeeper:
    """channels_redis forgets group members after group_expiry (a day by default); chargers
    stay connected for weeks and must stay reachable for commands. One task per process
    re-adds every live consumer's membership, instead of a sleeping task per connection
    (a task and its coroutine frame are ~2 KB per charger, and 10,000 timers)."""

    def __init__(self):
        self._members: dict[str, str] = {}  # channel name -> group
        self._task: asyncio.Task | None = None

    def add(self, consumer) -> None:
        self._members[consumer.channel_name] = consumer.group
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run(consumer.channel_layer))

    def discard(self, consumer) -> None:
        self._members.pop(consumer.channel_name, None)

    async def _run(self, layer) -> None:
        interval = max(60, getattr(layer, "group_expiry", 86400) // 4)
        while self._members:
            await asyncio.sleep(interval)
            for channel, group in list(self._members.items()):
                if self._members.get(channel) != group:
                    continue  # disconnected meanwhile
                try:
                    async with _LAYER_SLOTS:
                        await layer.group_add(group, channel)
                except Exception:
                    logger.exception("ocpp: could not renew group membership of %s", group)


group_keeper = _GroupKeeper()


# Seconds a handshake may wait for a database thread before it is answered 503 unchecked
# (apps.csms.services.connection_authorize); below the usual charger open timeouts (~30 s).
HANDSHAKE_BUDGET = float(settings.OCPP_HANDSHAKE_BUDGET)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class OcppConsumer(AsyncWebsocketConsumer):
    session = None
    ctx: ChargerContext | None = None
    group: str | None = None
    evicted = False
    _tasks: set[asyncio.Task] | None = None  # command tasks in flight, created with the first

    async def __call__(self, scope, receive, send):
        """Channels' AsyncConsumer.__call__ with a leaner loop. Channels waits on the
        websocket and the channel layer together with asyncio.wait, creating a task and a
        waiter for every frame; a charger's frames are the hot path and commands are rare,
        so the frames get a plain loop and the channel layer a task of its own. Both
        dispatch here; a command only acknowledges and starts its own task, so it never
        needs to wait for a frame being handled (or the other way round)."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        layer_task = asyncio.ensure_future(self._channel_layer_loop())
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            layer_task.cancel()
            try:
                await layer_task
            except asyncio.CancelledError:
                pass

    async def _channel_layer_loop(self):
        while True:
            try:
                message = await self.channel_receive()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis unreachable: the charger stays connected (its frames do not need
                # Redis); commands reach it again once the layer answers.
                logger.exception("ocpp: channel layer receive failed for %s", self.channel_name)
                await asyncio.sleep(1)
                continue
            try:
                await self.dispatch(message)
            except StopConsumer:
                return
            except Exception:
                logger.exception("ocpp: channel layer message %s failed", message.get("type"))

    async def dispatch(self, message):
        # Channels runs close_old_connections() on its sync thread before every message
        # (a thread hop each time: 13% of the server's GIL time at ~900 messages a second).
        # It tidies the Django connections of that thread, which this consumer never uses:
        # all its database work goes through the central system's own pool (apps.csms.db),
        # whose threads keep and check their connections themselves.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        watchdog.ensure_started()
        tenant = self.scope["ocpp_tenant"]
        schema = tenant["schema"]
        identity = self.scope["url_route"]["kwargs"]["identity"]
        cert_identity = _header(self.scope, CLIENT_CERT_HEADER) if CLIENT_CERT_HEADER else None
        throttle_key = (schema, identity, (self.scope.get("client") or ("",))[0])
        if throttle.handshakes.blocked(throttle_key):
            logger.warning("ocpp: %s on %s refused, too many failed handshakes", identity, schema)
            await deny(self.scope, self.base_send, 401, [(b"www-authenticate", b'Basic realm="OCPP"')])
            return
        subprotocol = negotiate_subprotocol(self.scope.get("subprotocols", []))
        cls = session_class(subprotocol) if subprotocol else None
        connection_id = uuid.uuid4().hex
        decision = await run_in_schema(
            schema,
            connection_authorize,
            identity=identity,
            authorization=_header(self.scope, b"authorization"),
            secure=self.scope.get("scheme") == "wss",
            client_cert_identity=cert_identity,
            queued_at=time.monotonic(),
            budget=HANDSHAKE_BUDGET,
            # Recorded online in the same call (before the accept below: if the charger
            # is gone by then, disconnect() records it offline again).
            connection_id=connection_id if cls else "",
            protocol_version=cls.subprotocol if cls else "",
        )
        if decision.overloaded:
            # Not a failed login: no throttle count. The charger retries, as after any refusal.
            logger.warning("ocpp: %s on %s deferred, handshake queue over %.0f s", identity, schema, HANDSHAKE_BUDGET)
            await deny(self.scope, self.base_send, 503, [(b"retry-after", b"5")])
            return
        if not decision.allowed:
            throttle.handshakes.failed(throttle_key)
            logger.info("ocpp: refused %s on %s", identity, schema)
            await deny(self.scope, self.base_send, 401, [(b"www-authenticate", b'Basic realm="OCPP"')])
            return
        throttle.handshakes.succeeded(throttle_key)
        if cls is None:
            # OCPP-J 1.6 / 2.0.1 section 3.1.2: finish the handshake without a
            # Sec-WebSocket-Protocol header, then close immediately.
            await self.accept()
            await self.close(code=1002)
            return
        self.ctx = ChargerContext(
            schema=schema,
            charge_point_id=decision.charge_point_id,
            identity=identity,
            registration_status=decision.registration_status,
            connection_id=connection_id,
        )
        self.session = cls(ctx=self.ctx, send=self._send_text)
        try:
            await self.accept(subprotocol)
        except BaseException:
            # The charger left while its handshake was being decided, and the server says so
            # by raising here, where Channels never calls disconnect(): undo the online record.
            await run_in_schema(
                schema,
                charge_point_disconnected,
                charge_point_id=self.ctx.charge_point_id,
                connection_id=connection_id,
                cause="handshake",
            )
            raise
        self.group = charger_group(schema, self.ctx.charge_point_id)
        # A second connection with the same identity replaces the first, wherever it lives.
        await self._layer("group_send", self.group, {"type": "ocpp.evict", "connection_id": self.ctx.connection_id})
        await self._layer("group_add", self.group, self.channel_name)
        group_keeper.add(self)
        logger.info("ocpp: %s connected to %s with %s", identity, schema, subprotocol)

    async def _layer(self, method: str, *args) -> None:
        async with _LAYER_SLOTS:
            await getattr(self.channel_layer, method)(*args)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)

    async def receive(self, text_data=None, bytes_data=None):
        if self.session is None or self.evicted:
            return
        if text_data is None:
            # OCPP-J uses text frames; be lenient with chargers that send UTF-8 as binary.
            text_data = (bytes_data or b"").decode("utf-8", "replace")
        await self.session.route_message(text_data)

    async def disconnect(self, code):
        if self.session is not None:
            # Commands in flight fail now and answer their callers "offline" (not a timeout
            # much later); they finish on their own, so they are not cancelled.
            self.session.close()
        if self.group:
            group_keeper.discard(self)
            await self._layer("group_discard", self.group, self.channel_name)
        if self.ctx is not None:
            await run_in_schema(
                self.ctx.schema,
                charge_point_disconnected,
                charge_point_id=self.ctx.charge_point_id,
                connection_id=self.ctx.connection_id,
                close_code=code if isinstance(code, int) else None,
            )
            logger.info("ocpp: %s disconnected (%s)", self.ctx.identity, code)

    # ------------------------------------------------------------------ group messages
    async def ocpp_evict(self, event):
        if self.ctx is not None and event["connection_id"] != self.ctx.connection_id and not self.evicted:
            self.evicted = True
            logger.info("ocpp: %s replaced by a new connection", self.ctx.identity)
            await self.close(code=1000)

    async def ocpp_command(self, event):
        if self.session is None or self.evicted:
            return
        ack = {"type": "ocpp.command.ack", "command_id": event.get("command_id")}
        await self._layer("send", event["reply_to"], ack)
        self._spawn(self._run_command(event))

    async def _run_command(self, event):
        action, payload = event["action"], event["payload"]
        reply: dict = {"type": "ocpp.command.result"}
        record: dict = {}
        try:
            outcome = await self.session.call_raw(action, payload, timeout=float(event.get("timeout", 30)))
        except TimeoutError:
            reply["status"] = record["status"] = Command.Status.TIMEOUT
        except Exception as exc:
            # The socket went away under us (ConnectionError, the server's ClientDisconnected).
            if not isinstance(exc, OSError):
                logger.exception("ocpp: command %s to %s failed", action, self.ctx.identity)
            reply["status"] = record["status"] = Command.Status.OFFLINE
        else:
            frame = outcome.frame
            reply.update(latency_ms=outcome.latency_ms, schema_error=outcome.schema_error, unique_id=frame.unique_id)
            record.update(latency_ms=outcome.latency_ms, unique_id=frame.unique_id)
            if outcome.ok:
                reply.update(status=Command.Status.OK, response=frame.payload)
                record.update(status=Command.Status.OK, response=frame.payload)
            else:
                error = {
                    "code": frame.error_code,
                    "description": frame.error_description,
                    "details": frame.error_details,
                }
                reply.update(status=Command.Status.ERROR, error=error)
                record.update(
                    status=Command.Status.ERROR,
                    response=error,
                    error_code=frame.error_code,
                    error_description=frame.error_description,
                )
            try:
                await self.session.after_command(action, payload, outcome)
            except Exception:
                logger.exception("ocpp: storing the answer to %s failed", action)
        # The caller first: it records the outcome itself (command_send), so its answer need
        # not wait for our write. Ours still matters for answers that arrive after the caller
        # gave up; it runs on the command pool, not behind queued meter values.
        try:
            await self._layer("send", event["reply_to"], reply)
        finally:
            if event.get("command_id"):
                await run_command_bookkeeping(self.ctx.schema, command_finish, command_id=event["command_id"], **record)
