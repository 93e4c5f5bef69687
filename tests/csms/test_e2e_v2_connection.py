"""End to end over real websockets: OCPP 2.0.1 and 2.1 stations connect beside 1.6,
boot, and take commands from the API console in their own version's vocabulary."""

import asyncio
import json
import threading
import time

import pytest
import websockets
from ocpp.routing import on
from ocpp.v21 import ChargePoint as Station21
from ocpp.v21 import call as call21
from ocpp.v201 import ChargePoint as Station201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as call_result201

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint, ChargerEvent
from apps.chargers.services import charge_point_create
from apps.csms.models import MessageLog
from tests.csms.e2e import basic, in_thread, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-02"
STATION = {"model": "Wallbox X", "vendor_name": "ACME", "serial_number": "SN-2"}


class Station(Station201):
    received: list

    @on("GetVariables")
    async def on_get_variables(self, get_variable_data, **kw):
        self.received.append(("GetVariables", get_variable_data))
        return call_result201.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": "60",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        )


class Station2_1(Station21):
    received: list


async def _connect(server, identity, cls, subprotocols):
    ws = await websockets.connect(
        server.url(identity),
        host="127.0.0.1",
        port=server.port,
        subprotocols=subprotocols,
        additional_headers=basic(identity, PASSWORD),
        open_timeout=5,
    )
    station = cls(identity, ws, response_timeout=10)
    station.received = []
    task = asyncio.create_task(station.start())
    return ws, station, task


def test_201_station_negotiates_boots_and_takes_console_commands(e2e_db, api_client):
    e2e_db.run(charge_point_create, identity="V2-E2E", password=PASSWORD)
    api = api_client(Role.TECHNICIAN)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(15)

    ws, station, task = run(_connect(e2e_db, "V2-E2E", Station, ["ocpp1.6", "ocpp2.0.1"]))
    try:
        assert ws.subprotocol == "ocpp2.0.1"
        boot = run(station.call(call201.BootNotification(charging_station=STATION, reason="PowerUp")))
        assert boot.status == "Accepted" and boot.interval > 0
        run(
            station.call(
                call201.StatusNotification(
                    timestamp="2026-11-25T12:00:00Z", connector_status="Available", evse_id=1, connector_id=1
                )
            )
        )
        cp = e2e_db.run(ChargePoint.objects.get, identity="V2-E2E")
        assert cp.protocol_version == "ocpp2.0.1" and cp.vendor == "ACME" and cp.online

        payload = {
            "getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]
        }
        answer = api.post("/api/v1/charge-points/V2-E2E/ocpp/GetVariables", payload)
        assert answer.status_code == 200, answer.content
        assert answer.json()["response"]["getVariableResult"][0]["attributeValue"] == "60"
        assert station.received[0][0] == "GetVariables"
        # A 1.6 action name means nothing to a 2.0.1 station: refused before it is sent.
        wrong = api.post("/api/v1/charge-points/V2-E2E/ocpp/RemoteStartTransaction", {"idTag": "X", "connectorId": 1})
        assert (wrong.status_code, wrong.json()["code"]) == (400, "unknown_action")
        bad = api.post("/api/v1/charge-points/V2-E2E/ocpp/Reset", {"type": "Soft"})
        assert (bad.status_code, bad.json()["code"]) == (400, "PropertyConstraintViolation")

        # A malformed frame gets the 2.0.1 CALLERROR on the same, still open, connection.
        reply = json.loads(run(asyncio.wait_for(_send_and_read_reply(station, ws, "[2, 'not json"), 5)))
        assert reply[:3] == [4, "-1", "RpcFrameworkError"]
        assert run(station.call(call201.Heartbeat())).current_time
    finally:
        task.cancel()
        run(ws.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    # The message log is written in bulk every half second.
    deadline = time.monotonic() + 5
    while True:
        logged = e2e_db.run(
            lambda: sorted(MessageLog.objects.filter(action="GetVariables").values_list("direction", flat=True))
        )
        if logged == ["in", "out"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert logged == ["in", "out"]


async def _send_and_read_reply(station, ws, text):
    # The library's receive loop is running; read the raw reply by wrapping its handler,
    # wrapped before sending: the answer can arrive before the next line of a test runs.
    fut = asyncio.get_running_loop().create_future()
    original = station.route_message

    async def spy(raw):
        if not fut.done():
            fut.set_result(raw)
        await original(raw)

    station.route_message = spy
    try:
        await ws.send(text)
        return await fut
    finally:
        station.route_message = original


def test_21_station_negotiates_and_its_send_frames_are_kept(e2e_db):
    e2e_db.run(charge_point_create, identity="V21-E2E", password=PASSWORD)

    async def scenario():
        ws, station, task = await _connect(e2e_db, "V21-E2E", Station2_1, ["ocpp2.1", "ocpp2.0.1", "ocpp1.6"])
        try:
            assert ws.subprotocol == "ocpp2.1"
            boot = await station.call(call21.BootNotification(charging_station=STATION, reason="PowerUp"))
            assert boot.status == "Accepted"
            opened = await station.call(
                call21.OpenPeriodicEventStream(
                    constant_stream_data={"id": 4, "variable_monitoring_id": 1, "params": {"interval": 5}}
                )
            )
            assert opened.status == "Accepted"
            frame = [
                6,
                "send-1",
                "NotifyPeriodicEventStream",
                {"id": 4, "pending": 0, "basetime": "2026-11-25T12:00:00Z", "data": [{"t": 0, "v": "11.2"}]},
            ]
            await ws.send(json.dumps(frame))

            def stored():
                return ChargerEvent.objects.filter(kind="NotifyPeriodicEventStream", request_id=4).exists()

            assert await wait_for(lambda: in_thread(e2e_db.schema, stored))
            # Still connected and answering after the SEND (which got no answer).
            assert (await station.call(call21.Heartbeat())).current_time
            cp = await in_thread(e2e_db.schema, lambda: ChargePoint.objects.get(identity="V21-E2E"))
            assert cp.protocol_version == "ocpp2.1"
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())
