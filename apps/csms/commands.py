"""The command port: the one way EVzone's domain apps reach a charger.

A caller (a view, the API, an admin action, a Celery task, a domain service) calls
`command_send`. The port checks the action against the charger's protocol version
(apps.csms.catalogue), records a csms.Command, hands it to the bus and records the
outcome. The bus in production is the channel layer: the message goes to the charger's
group; whichever process holds the charger's socket acknowledges at once, makes the
call in a task (never in its receive path) and sends the answer to the caller's private
reply channel. No acknowledgement in ACK_TIMEOUT means no live socket anywhere,
whatever the online flag says.

This module is a leaf of the central system on purpose: it imports no protocol adapter
(handlers, consumers, batching), so chargers, charging, smart charging, certificates,
device model and the money apps can all import it without importing one another
(the `.importlinter` contract "command-port" keeps it so). Tests swap the bus with
`bus_use` (the `command_bus` fixture) instead of monkeypatching `command_send` where
each caller imported it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.db import connection
from django.utils import timezone

from apps.chargers.models import ChargePoint
from apps.csms.catalogue import catalogue_for
from apps.csms.models import Command
from apps.csms.protocol import CALL, FrameError, validate
from apps.csms.redact import redact

ACK_TIMEOUT = 5.0
MAX_TIMEOUT = 120.0


def charger_group(schema: str, charge_point_id: int) -> str:
    return f"ocpp.{schema}.{charge_point_id}"


class CommandError(Exception):
    pass


class InvalidCommand(CommandError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


@dataclass
class CommandResult:
    status: str  # Command.Status: ok | error | timeout | offline
    command: Command
    response: dict | None = None
    error: dict = field(default_factory=dict)
    latency_ms: int | None = None
    schema_error: str = ""


# --------------------------------------------------------------------------- bookkeeping


def command_create(*, charge_point: ChargePoint, action: str, payload: dict, user=None, source: str = "") -> Command:
    return Command.objects.create(
        charge_point=charge_point,
        action=action,
        payload=redact(action, payload),
        user=user if getattr(user, "pk", None) else None,
        source=source,
    )


def command_finish(
    *,
    command_id: int,
    status: str,
    response=None,
    error_code: str = "",
    error_description: str = "",
    latency_ms: int | None = None,
    unique_id: str = "",
) -> None:
    """Record the outcome. The consumer (answer) and the caller (timeout / offline) both
    report; an answer wins over a timeout that was recorded first, never the other way."""
    qs = Command.objects.filter(pk=command_id)
    if status in (Command.Status.TIMEOUT, Command.Status.OFFLINE):
        qs = qs.filter(status=Command.Status.PENDING)
    else:
        qs = qs.filter(status__in=[Command.Status.PENDING, Command.Status.TIMEOUT])
    fields = {"status": status, "answered_at": timezone.now()}
    if response is not None:
        fields["response"] = response
    if error_code:
        fields["error_code"] = error_code
        fields["error_description"] = error_description[:2000]
    if latency_ms is not None:
        fields["latency_ms"] = latency_ms
    if unique_id:
        fields["unique_id"] = unique_id
    qs.update(**fields)


# --------------------------------------------------------------------------- the port


def command_validate(*, charge_point: ChargePoint, action: str, payload) -> None:
    catalogue = catalogue_for(charge_point.protocol_version)
    if catalogue is None:
        raise InvalidCommand(f"Protocol {charge_point.protocol_version} is not supported yet.", "unsupported")
    if action not in catalogue.outbound:
        raise InvalidCommand(
            f"{action} is not a command of {charge_point.get_protocol_version_display()}.", "unknown_action"
        )
    if not isinstance(payload, dict):
        raise InvalidCommand("The payload is a JSON object.")
    try:
        validate(version=catalogue.version, message_type=CALL, action=action, payload=payload, errors=catalogue.errors)
    except FrameError as exc:
        raise InvalidCommand(exc.description, exc.code) from None


class Bus(Protocol):
    """Delivers one recorded command to the charger and returns the reply:
    {"status": Command.Status, "response"?, "error"?, "latency_ms"?, "unique_id"?, "schema_error"?}."""

    def deliver(self, *, charge_point: ChargePoint, command: Command, payload: dict, timeout: float) -> dict: ...


class ChannelLayerBus:
    """The production bus: the Redis channel layer to whichever process holds the socket."""

    def deliver(self, *, charge_point: ChargePoint, command: Command, payload: dict, timeout: float) -> dict:
        if not charge_point.online:
            return {"status": Command.Status.OFFLINE}
        group = charger_group(connection.schema_name, charge_point.pk)
        return async_to_sync(_roundtrip)(
            group=group, command_id=command.pk, action=command.action, payload=payload, timeout=timeout
        )


_bus: Bus = ChannelLayerBus()


def bus_get() -> Bus:
    return _bus


@contextlib.contextmanager
def bus_use(bus: Bus) -> Iterator[Bus]:
    """Route every command_send through `bus` for the duration (tests, scripts)."""
    global _bus
    previous, _bus = _bus, bus
    try:
        yield bus
    finally:
        _bus = previous


def command_send(
    *, charge_point: ChargePoint, action: str, payload: dict, user=None, timeout: float = 30, source: str = ""
) -> CommandResult:
    """Send an OCPP command and wait for the charger's answer (sync; call it from views,
    tasks, scripts). Runs in the current tenant schema. Raises InvalidCommand."""
    command_validate(charge_point=charge_point, action=action, payload=payload)
    timeout = max(1.0, min(float(timeout), MAX_TIMEOUT))
    command = command_create(charge_point=charge_point, action=action, payload=payload, user=user, source=source)
    reply = _bus.deliver(charge_point=charge_point, command=command, payload=payload, timeout=timeout)
    # The consumer records answers too (it also sees late ones); this write matters when
    # the caller runs inside a transaction the consumer's process cannot see yet.
    error = reply.get("error") or {}
    command_finish(
        command_id=command.pk,
        status=reply["status"],
        response=reply.get("response") if reply["status"] == Command.Status.OK else (error or None),
        error_code=error.get("code", ""),
        error_description=error.get("description", ""),
        latency_ms=reply.get("latency_ms"),
        unique_id=reply.get("unique_id", ""),
    )
    command.refresh_from_db()
    return CommandResult(
        status=reply["status"],
        command=command,
        response=reply.get("response"),
        error=error,
        latency_ms=reply.get("latency_ms"),
        schema_error=reply.get("schema_error", ""),
    )


@shared_task(
    name="csms.send_command", ignore_result=True, soft_time_limit=MAX_TIMEOUT + 30, time_limit=MAX_TIMEOUT + 60
)
def send_command(
    charge_point_id: int, action: str, payload: dict, user_id: int | None = None, timeout: float = 30
) -> str:
    """Fire-and-forget command (runs in the schema it was queued from); the outcome is in
    csms.Command."""
    cp = ChargePoint.objects.get(pk=charge_point_id)
    user = None
    if user_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
    return command_send(
        charge_point=cp, action=action, payload=payload, user=user, timeout=timeout, source="task"
    ).status


async def _roundtrip(*, group: str, command_id: int, action: str, payload: dict, timeout: float) -> dict:
    # A layer of our own: channels_redis binds receive() to one event loop, and
    # async_to_sync may run us on a different loop each call.
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    try:
        reply_to = await layer.new_channel()
        started = time.monotonic()
        await layer.group_send(
            group,
            {
                "type": "ocpp.command",
                "command_id": command_id,
                "action": action,
                "payload": payload,
                "timeout": timeout,
                "reply_to": reply_to,
            },
        )
        try:
            await asyncio.wait_for(_receive(layer, reply_to, "ocpp.command.ack"), min(ACK_TIMEOUT, timeout))
        except TimeoutError:
            return {"status": Command.Status.OFFLINE}
        remaining = timeout - (time.monotonic() - started)
        try:
            # A little longer than the consumer's own deadline, so its timeout verdict reaches us.
            return await asyncio.wait_for(_receive(layer, reply_to, "ocpp.command.result"), remaining + 1)
        except TimeoutError:
            return {"status": Command.Status.TIMEOUT}
    finally:
        await layer.close_pools()


async def _receive(layer, channel: str, kind: str) -> dict:
    while True:
        message = await layer.receive(channel)
        if message.get("type") == kind:
            return message
