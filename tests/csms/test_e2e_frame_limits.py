"""End to end (issue #16): outsized, overdeep and overlong frames over a real websocket are
answered with the specification's syntax error, the connection stays open, and the message
log keeps every frame of the flush, the bad ones cut and marked."""

import asyncio
import json

import pytest
import websockets

from apps.chargers.services import charge_point_create
from apps.csms import messagelog
from apps.csms.models import MessageLog
from tests.csms.e2e import basic, in_thread, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-01"


@pytest.mark.parametrize(("subprotocol", "code"), [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "FormatViolation")])
def test_limits_over_the_wire_keep_the_connection_and_the_log(e2e_db, subprotocol, code):
    identity = f"E2E-LIM-{subprotocol[-3:]}"
    e2e_db.run(charge_point_create, identity=identity, password=PASSWORD)
    frames = {
        "deep": '[2,"deep","DataTransfer",' + '{"a":' * 1000 + "{}" + "}" * 1000 + "]",
        "big": json.dumps([2, "big", "DataTransfer", {"vendorId": "ACME", "data": "x" * (4 * 1024 * 1024)}]),
        "long": json.dumps([2, "long", "A" * 10_000, {}]),
    }

    async def scenario():
        async with websockets.connect(
            e2e_db.url(identity),
            host="127.0.0.1",
            port=e2e_db.port,
            subprotocols=[subprotocol],
            additional_headers=basic(identity, PASSWORD),
        ) as ws:
            replies = {}
            for name, frame in frames.items():
                await ws.send(frame)
                replies[name] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send('[2, "after", "Heartbeat", {}]')
            replies["after"] = json.loads(await asyncio.wait_for(ws.recv(), 5))

            def logged():
                rows = {r.unique_id: r for r in MessageLog.objects.filter(identity=identity, direction="in")}
                return rows if {"deep", "big", "long", "after"} <= set(rows) else None

            return replies, await wait_for(lambda: in_thread(e2e_db.schema, logged))

    replies, rows = asyncio.run(scenario())
    assert replies["deep"][:3] == [4, "deep", code]
    assert replies["big"][:3] == [4, "big", code]
    assert replies["long"][:3] == [4, "long", "NotImplemented"] and len(replies["long"][3]) < 200
    assert replies["after"][0] == 3 and replies["after"][1] == "after"
    assert rows["long"].action == "A" * 64 and "action" in rows["long"].payload[messagelog.NOTE]
    assert rows["big"].error_code == code and "raw" in rows["big"].payload[messagelog.NOTE]
