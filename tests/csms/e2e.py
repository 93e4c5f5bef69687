"""A charger for end-to-end tests: the `ocpp` library's 1.6 ChargePoint over `websockets`,
answering every command the CSMS may send, with answers a test can change."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from datetime import UTC, datetime

import websockets
from django.db import connection
from django_tenants.utils import schema_context
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def basic(identity: str, password: str) -> dict:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def in_thread(schema: str, fn, /, **kwargs):
    """Run ORM code from an async test: in a thread, in the schema, closing the thread's
    connection (a leftover connection would block dropping the test database)."""

    def run():
        try:
            with schema_context(schema):
                return fn(**kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(run)


class FakeCharger(ChargePoint):
    """Answers CSMS commands; `answers[action]` overrides the default payload,
    `received` keeps every command as (action, kwargs)."""

    def __init__(self, identity, ws):
        super().__init__(identity, ws, response_timeout=10)
        self.answers: dict[str, object] = {}
        self.received: list[tuple[str, dict]] = []
        self.delay: dict[str, float] = {}

    async def _answer(self, action: str, kwargs: dict, default):
        self.received.append((action, kwargs))
        if action in self.delay:
            await asyncio.sleep(self.delay[action])
        answer = self.answers.get(action, default)
        return answer() if callable(answer) else answer

    @on(Action.remote_start_transaction)
    async def on_remote_start(self, **kw):
        return await self._answer("RemoteStartTransaction", kw, call_result.RemoteStartTransaction(status="Accepted"))

    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, **kw):
        return await self._answer("RemoteStopTransaction", kw, call_result.RemoteStopTransaction(status="Accepted"))

    @on(Action.reset)
    async def on_reset(self, **kw):
        return await self._answer("Reset", kw, call_result.Reset(status="Accepted"))

    @on(Action.unlock_connector)
    async def on_unlock(self, **kw):
        return await self._answer("UnlockConnector", kw, call_result.UnlockConnector(status="Unlocked"))

    @on(Action.change_availability)
    async def on_change_availability(self, **kw):
        return await self._answer("ChangeAvailability", kw, call_result.ChangeAvailability(status="Accepted"))

    @on(Action.change_configuration)
    async def on_change_configuration(self, **kw):
        return await self._answer("ChangeConfiguration", kw, call_result.ChangeConfiguration(status="Accepted"))

    @on(Action.get_configuration)
    async def on_get_configuration(self, **kw):
        default = call_result.GetConfiguration(
            configuration_key=[
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            ]
        )
        return await self._answer("GetConfiguration", kw, default)

    @on(Action.trigger_message)
    async def on_trigger(self, **kw):
        return await self._answer("TriggerMessage", kw, call_result.TriggerMessage(status="Accepted"))

    @on(Action.clear_cache)
    async def on_clear_cache(self, **kw):
        return await self._answer("ClearCache", kw, call_result.ClearCache(status="Accepted"))

    @on(Action.update_firmware)
    async def on_update_firmware(self, **kw):
        return await self._answer("UpdateFirmware", kw, call_result.UpdateFirmware())

    @on(Action.get_diagnostics)
    async def on_get_diagnostics(self, **kw):
        return await self._answer("GetDiagnostics", kw, call_result.GetDiagnostics(file_name="diag.zip"))

    @on(Action.send_local_list)
    async def on_send_local_list(self, **kw):
        return await self._answer("SendLocalList", kw, call_result.SendLocalList(status="Accepted"))

    @on(Action.get_local_list_version)
    async def on_get_local_list_version(self, **kw):
        return await self._answer("GetLocalListVersion", kw, call_result.GetLocalListVersion(list_version=1))

    @on(Action.reserve_now)
    async def on_reserve_now(self, **kw):
        return await self._answer("ReserveNow", kw, call_result.ReserveNow(status="Accepted"))

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, **kw):
        return await self._answer("CancelReservation", kw, call_result.CancelReservation(status="Accepted"))

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(self, **kw):
        return await self._answer("SetChargingProfile", kw, call_result.SetChargingProfile(status="Accepted"))

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(self, **kw):
        return await self._answer("ClearChargingProfile", kw, call_result.ClearChargingProfile(status="Accepted"))

    @on(Action.get_composite_schedule)
    async def on_get_composite_schedule(self, **kw):
        return await self._answer("GetCompositeSchedule", kw, call_result.GetCompositeSchedule(status="Rejected"))

    @on(Action.data_transfer)
    async def on_data_transfer(self, **kw):
        return await self._answer("DataTransfer", kw, call_result.DataTransfer(status="UnknownVendorId"))


@contextlib.asynccontextmanager
async def charger(
    server,
    identity: str,
    *,
    password: str | None = None,
    subprotocols=("ocpp1.6",),
    by_path: bool = True,
    host: str | None = None,
    headers: dict | None = None,
    open_timeout: float = 5,
):
    """Connect a FakeCharger; yields it with its receive loop running."""
    extra = dict(headers or {})
    if password is not None:
        extra.update(basic(identity, password))
    ws = await websockets.connect(
        server.url(identity, by_path=by_path, host=host),
        host="127.0.0.1",
        port=server.port,
        subprotocols=list(subprotocols),
        additional_headers=extra,
        open_timeout=open_timeout,
    )
    cp = FakeCharger(identity, ws)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await ws.close()


async def boot(cp: FakeCharger, **extra):
    return await cp.call(call.BootNotification(charge_point_vendor="EVzoneTest", charge_point_model="Sim-2", **extra))


async def wait_for(predicate, timeout: float = 5.0, interval: float = 0.05):
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


class BackgroundCharger:
    """A connected, booted charger on an event loop in its own thread, so that the test's
    main thread can make blocking calls (the API through Django's test client)."""

    def __init__(self, server, identity: str, **kwargs):
        self.server, self.identity, self.kwargs = server, identity, kwargs

    def __enter__(self) -> FakeCharger:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.cm = charger(self.server, self.identity, **self.kwargs)
        self.cp = self.run(self._open())
        return self.cp

    async def _open(self):
        cp = await self.cm.__aenter__()
        await boot(cp)
        return cp

    def run(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc):
        try:
            self.run(self.cm.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
