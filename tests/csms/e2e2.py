"""An OCPP 2.0.1 station for end-to-end tests: the `ocpp` library's v201 ChargePoint over
`websockets`, answering every command the CSMS may send (defaults a test can change), with
helpers for the station's own messages (boot, authorize, transaction events with seqNo).

Modelled on tests/csms/e2e.py (the 1.6 FakeCharger); reuse its `wait_for`, `in_thread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid

import websockets
from ocpp.v201 import ChargePoint, call, call_result

from apps.csms.catalogue import OUTBOUND_201
from tests.csms.e2e import basic, now_iso

# Answers (snake_case, as the library's call_result dataclasses take them) for commands
# whose answer needs more than {"status": "Accepted"}.
DEFAULT_ANSWERS: dict[str, object] = {
    "UnlockConnector": {"status": "Unlocked"},
    "GetLocalListVersion": {"version_number": 0},
    "GetTransactionStatus": {"messages_in_queue": False},
    "CostUpdated": {},
    "GetCompositeSchedule": {"status": "Rejected"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
    "GetDisplayMessages": {"status": "Unknown"},
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "DataTransfer": {"status": "UnknownVendorId"},
    "GetVariables": lambda kw: {
        "get_variable_result": [
            {
                "attribute_status": "Accepted",
                "component": d["component"],
                "variable": d["variable"],
                "attribute_value": "",
            }
            for d in kw["get_variable_data"]
        ]
    },
    "SetVariables": lambda kw: {
        "set_variable_result": [
            {"attribute_status": "Accepted", "component": d["component"], "variable": d["variable"]}
            for d in kw["set_variable_data"]
        ]
    },
    "SetVariableMonitoring": lambda kw: {
        "set_monitoring_result": [
            {
                "status": "Accepted",
                "type": d["type"],
                "severity": d["severity"],
                "component": d["component"],
                "variable": d["variable"],
            }
            for d in kw["set_monitoring_data"]
        ]
    },
    "ClearVariableMonitoring": lambda kw: {
        "clear_monitoring_result": [{"status": "Accepted", "id": i} for i in kw["id"]]
    },
}


class FakeStation(ChargePoint):
    """Answers every 2.0.1 CSMS->station command: `answers[action]` (a snake_case dict, or a
    callable taking the request's kwargs) overrides the default; `received` keeps every
    command as (action, kwargs)."""

    def __init__(self, identity, ws):
        super().__init__(identity, ws, response_timeout=10)
        self.answers: dict[str, object] = {}
        self.received: list[tuple[str, dict]] = []
        self.seq: dict[str, int] = {}
        self.runner = None  # set by BackgroundStation
        for action in OUTBOUND_201:
            self.route_map[action] = {"_on_action": self._handler(action), "_skip_schema_validation": False}

    def _handler(self, action: str):
        async def handle(**kw):
            self.received.append((action, kw))
            answer = self.answers.get(action, DEFAULT_ANSWERS.get(action, {"status": "Accepted"}))
            if callable(answer):
                answer = answer(kw)
            return getattr(call_result, action)(**answer)

        return handle

    def commands(self, action: str) -> list[dict]:
        return [kw for a, kw in self.received if a == action]

    def sync(self, coro, timeout: float = 15):
        """From the test's thread: run a call on the station's own loop (BackgroundStation)."""
        return self.runner(coro, timeout)

    # ------------------------------------------------------------------ station -> CSMS
    async def boot(self, reason: str = "PowerUp"):
        return await self.call(
            call.BootNotification(charging_station={"vendor_name": "EVzoneTest", "model": "Sim-201"}, reason=reason)
        )

    async def status(self, evse_id: int, connector_id: int, status: str):
        return await self.call(
            call.StatusNotification(
                timestamp=now_iso(), connector_status=status, evse_id=evse_id, connector_id=connector_id
            )
        )

    async def authorize(self, id_token: str, type: str = "ISO14443"):
        return await self.call(call.Authorize(id_token={"id_token": id_token, "type": type}))

    async def tx_event(
        self,
        event_type: str,
        transaction_id: str,
        trigger_reason: str,
        *,
        seq_no: int | None = None,
        timestamp: str | None = None,
        energy_wh: float | None = None,
        context: str | None = None,
        id_token: str | None = None,
        evse: tuple[int, int] | None = None,
        **extra,
    ):
        """A TransactionEvent; seqNo counts per transaction from 0 unless given."""
        if seq_no is None:
            seq_no = self.seq.get(transaction_id, -1) + 1
        self.seq[transaction_id] = max(seq_no, self.seq.get(transaction_id, -1))
        info = {"transaction_id": transaction_id, **extra.pop("info", {})}
        kwargs = dict(extra)
        at = timestamp or now_iso()
        if energy_wh is not None:
            sample = {"value": energy_wh, "measurand": "Energy.Active.Import.Register"}
            if context:
                sample["context"] = context
            kwargs["meter_value"] = [{"timestamp": at, "sampled_value": [sample]}]
        if id_token is not None:
            kwargs["id_token"] = {"id_token": id_token, "type": "ISO14443"}
        if evse is not None:
            kwargs["evse"] = {"id": evse[0], "connector_id": evse[1]}
        return await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=at,
                trigger_reason=trigger_reason,
                seq_no=seq_no,
                transaction_info=info,
                **kwargs,
            )
        )


def new_transaction_id() -> str:
    return str(uuid.uuid4())


@contextlib.asynccontextmanager
async def station(server, identity: str, *, password: str | None = None, subprotocols=("ocpp2.0.1",)):
    """Connect a FakeStation; yields it with its receive loop running."""
    headers = basic(identity, password) if password is not None else {}
    ws = await websockets.connect(
        server.url(identity),
        host="127.0.0.1",
        port=server.port,
        subprotocols=list(subprotocols),
        additional_headers=headers,
        open_timeout=5,
    )
    cp = FakeStation(identity, ws)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await ws.close()


class BackgroundStation:
    """A connected, booted station on an event loop in its own thread, so the test's main
    thread can make blocking calls (the API, command_send)."""

    def __init__(self, server, identity: str, **kwargs):
        self.server, self.identity, self.kwargs = server, identity, kwargs

    def __enter__(self) -> FakeStation:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.cm = station(self.server, self.identity, **self.kwargs)
        self.cp = self.run(self._open())
        self.cp.runner = self.run
        return self.cp

    async def _open(self):
        cp = await self.cm.__aenter__()
        await cp.boot()
        return cp

    def run(self, coro, timeout: float = 15):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc):
        try:
            self.run(self.cm.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
