"""The command bus: outbound OCPP calls from any process.

The caller (a view, the API, an admin action, a Celery task) sends a message to
the charger's channel-layer group; whichever process holds the charger's socket
acknowledges at once, makes the call in a task (never in its receive path) and
sends the answer to the caller's private reply channel. No acknowledgement in
ACK_TIMEOUT means no live socket anywhere, whatever the online flag says.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.db import connection

from apps.chargers.models import ChargePoint
from apps.csms.handlers import session_class
from apps.csms.models import Command
from apps.csms.protocol import CALL, FrameError, validate
from apps.csms.services import command_create, command_finish

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


def command_validate(*, charge_point: ChargePoint, action: str, payload) -> None:
    cls = session_class(charge_point.protocol_version)
    if cls is None:
        raise InvalidCommand(f"Protocol {charge_point.protocol_version} is not supported yet.", "unsupported")
    if action not in cls.outbound_actions:
        raise InvalidCommand(
            f"{action} is not a command of {charge_point.get_protocol_version_display()}.", "unknown_action"
        )
    if not isinstance(payload, dict):
        raise InvalidCommand("The payload is a JSON object.")
    try:
        validate(version=cls.version, message_type=CALL, action=action, payload=payload, errors=cls.errors)
    except FrameError as exc:
        raise InvalidCommand(exc.description, exc.code) from None


def command_send(
    *, charge_point: ChargePoint, action: str, payload: dict, user=None, timeout: float = 30, source: str = ""
) -> CommandResult:
    """Send an OCPP command and wait for the charger's answer (sync; call it from views,
    tasks, scripts). Runs in the current tenant schema. Raises InvalidCommand."""
    command_validate(charge_point=charge_point, action=action, payload=payload)
    timeout = max(1.0, min(float(timeout), MAX_TIMEOUT))
    command = command_create(charge_point=charge_point, action=action, payload=payload, user=user, source=source)
    if not charge_point.online:
        command_finish(command_id=command.pk, status=Command.Status.OFFLINE)
        return _result(command, {"status": Command.Status.OFFLINE})
    group = charger_group(connection.schema_name, charge_point.pk)
    reply = async_to_sync(_roundtrip)(
        group=group, command_id=command.pk, action=action, payload=payload, timeout=timeout
    )
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
    return _result(command, reply)


def _result(command: Command, reply: dict) -> CommandResult:
    command.refresh_from_db()
    return CommandResult(
        status=reply["status"],
        command=command,
        response=reply.get("response"),
        error=reply.get("error") or {},
        latency_ms=reply.get("latency_ms"),
        schema_error=reply.get("schema_error", ""),
    )


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
