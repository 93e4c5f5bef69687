"""A tiny OCPP 1.6 central system for the simulator's tests: the `ocpp` library's server side
over `websockets.serve` on 127.0.0.1 with a random port. It records every CALL it receives
and can issue commands, drop connections and refuse new ones."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    identity: str
    action: str
    payload: dict
    at: float = field(default_factory=time.monotonic)


class CsmsChargePoint(ChargePoint):
    def __init__(self, id, connection, csms: FakeCSMS):
        super().__init__(id, connection, response_timeout=5)
        self.csms = csms

    async def route_message(self, raw_msg):
        # Every frame in arrival order, so a test can prove an answer preceded what followed it.
        self.csms.frames.append((self.id, raw_msg))
        await super().route_message(raw_msg)

    def _got(self, action: str, payload: dict) -> None:
        self.csms.record(Received(self.id, action, payload))

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload):
        self._got("BootNotification", payload)
        status = self.csms.boot_statuses.pop(0) if self.csms.boot_statuses else "Accepted"
        return call_result.BootNotification(current_time=_now(), interval=self.csms.interval, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **payload):
        self._got("Heartbeat", payload)
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status_notification(self, **payload):
        self._got("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag, **payload):
        self._got("Authorize", {"id_tag": id_tag, **payload})
        status = "Blocked" if id_tag in self.csms.blocked else "Accepted"
        return call_result.Authorize(id_tag_info={"status": status})

    @on(Action.start_transaction)
    def on_start_transaction(self, **payload):
        self._got("StartTransaction", payload)
        tx_id = next(self.csms.tx_ids)
        payload["transaction_id"] = tx_id
        return call_result.StartTransaction(transaction_id=tx_id, id_tag_info={"status": "Accepted"})

    @on(Action.stop_transaction)
    def on_stop_transaction(self, **payload):
        self._got("StopTransaction", payload)
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    def on_meter_values(self, **payload):
        self._got("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **payload):
        self._got("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **payload):
        self._got("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, **payload):
        self._got("DataTransfer", payload)
        return call_result.DataTransfer(status="Accepted", data="pong")

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **payload):
        self._got("SecurityEventNotification", payload)
        return call_result.SecurityEventNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(self, **payload):
        self._got("LogStatusNotification", payload)
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status_notification(self, **payload):
        self._got("SignedFirmwareStatusNotification", payload)
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **payload):
        self._got("SignCertificate", payload)
        return call_result.SignCertificate(status="Accepted")


class FakeCSMS:
    subprotocol = "ocpp1.6"
    cp_class = CsmsChargePoint

    def __init__(self, *, interval: int = 30, boot_statuses: list[str] | None = None):
        self.interval = interval
        self.boot_statuses = list(boot_statuses or [])
        self.blocked: set[str] = set()
        self.tx_ids = itertools.count(1001)
        self.received: list[Received] = []
        self.requests: list = []  # handshake requests, for headers
        self.frames: list[tuple[str, str]] = []
        self.cps: dict[str, CsmsChargePoint] = {}
        self.connections = 0
        self.accepting = True
        self._changed = asyncio.Condition()
        self.server = None

    async def __aenter__(self) -> FakeCSMS:
        self.server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            subprotocols=[self.subprotocol],
            process_request=self._process_request,
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/ocpp/"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    def _process_request(self, connection, request):
        self.requests.append(request)
        if not self.accepting:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "down for the test\n")
        return None

    async def _handler(self, ws) -> None:
        identity = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        cp = self.cp_class(identity, ws, self)
        self.cps[identity] = cp
        self.connections += 1
        try:
            await cp.start()
        except ConnectionClosed:
            pass

    def record(self, item: Received) -> None:
        self.received.append(item)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def of(self, action: str, **match) -> list[Received]:
        return [r for r in self.received if r.action == action and all(r.payload.get(k) == v for k, v in match.items())]

    async def wait_for(self, action: str, count: int = 1, timeout: float = 5.0, **match) -> list[Received]:
        async def enough():
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(action, **match)) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"waited {timeout}s for {count} x {action} {match}; got "
                f"{[(r.action, r.payload) for r in self.received][-15:]}"
            ) from None
        return self.of(action, **match)

    async def send(self, identity: str, payload):
        return await self.cps[identity].call(payload, suppress=False)

    async def drop(self, identity: str) -> None:
        await self.cps[identity]._connection.close()
