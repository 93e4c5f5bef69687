"""OCPP-J 1.6 frames for simulated chargers, built as plain JSON.

The load generator does not use the `ocpp` library on the charger side: a
ChargePoint object per charger (route map, queues, locks, schema validation of
every frame) would make the generator, not the server, the bottleneck. Frames
here are valid against the OCPP 1.6 JSON schemas (the ceiling server validates
every one of them with the library, so a wrong frame shows up as an error).
"""

from __future__ import annotations

import json
import time

CALL, CALLRESULT, CALLERROR = 2, 3, 4

VENDOR = "EVzoneBench"
MODEL = "LoadGen-1"

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
loads = json.loads

_now_cache = [0, ""]


def now_iso() -> str:
    """UTC timestamp with millisecond precision (a server may deduplicate meter values by
    timestamp, and a closed-loop charger sends several a second)."""
    t = time.time()
    sec = int(t)
    if _now_cache[0] != sec:
        _now_cache[0] = sec
        _now_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return f"{_now_cache[1]}.{int((t - sec) * 1000):03d}Z"


def call_frame(unique_id: str, action: str, payload: dict) -> str:
    return _dumps([CALL, unique_id, action, payload])


def result_frame(unique_id: str, payload: dict) -> str:
    return _dumps([CALLRESULT, unique_id, payload])


def error_frame(unique_id: str, code: str, description: str = "") -> str:
    return _dumps([CALLERROR, unique_id, code, description, {}])


def identity(index: int) -> str:
    return f"BENCH{index:06d}"


def id_tag(index: int) -> str:
    # 1.6 idTag is CiString20.
    return f"BT{index:06d}"


def boot_payload(ident: str) -> dict:
    return {
        "chargePointVendor": VENDOR,
        "chargePointModel": MODEL,
        "chargePointSerialNumber": ident,
        "firmwareVersion": "1.0.0",
    }


# One charger's life, one message per tick, repeated. Across a fleet that starts at
# random positions it gives the mix: 40% MeterValues, 25% StatusNotification,
# 20% Heartbeat, 5% each Authorize, StartTransaction, StopTransaction.
HB, AUTH, START, MV, STOP = "Heartbeat", "Authorize", "StartTransaction", "MeterValues", "StopTransaction"
CYCLE: tuple[tuple[str, str | None], ...] = (
    (HB, None),
    ("StatusNotification", "Available"),
    (HB, None),
    (AUTH, None),
    ("StatusNotification", "Preparing"),
    (START, None),
    ("StatusNotification", "Charging"),
    (MV, None),
    (MV, None),
    (MV, None),
    (MV, None),
    (MV, None),
    (MV, None),
    (MV, None),
    (MV, None),
    (STOP, None),
    ("StatusNotification", "Finishing"),
    ("StatusNotification", "Available"),
    (HB, None),
    (HB, None),
)


class Charger:
    """State of one simulated charger: a few slots, no per-charger tasks except its reader."""

    __slots__ = (
        "index",
        "ident",
        "tag",
        "ws",
        "pos",
        "tx",
        "meter",
        "power",
        "seq",
        "pending_id",
        "pending_action",
        "pending_t0",
        "accepted",
        "open",
    )

    def __init__(self, index: int, start_pos: int = 0):
        self.index = index
        self.ident = identity(index)
        self.tag = id_tag(index)
        self.ws = None
        self.pos = start_pos % len(CYCLE)
        self.tx: int | None = None
        self.meter = 1000 + index  # Wh
        self.power = 7000 + (index * 37) % 15000  # W
        self.seq = 0
        self.pending_id: str | None = None
        self.pending_action = ""
        self.pending_t0 = 0.0
        self.accepted = False
        self.open = False

    def next_id(self) -> str:
        self.seq += 1
        return str(self.seq)

    def next_message(self) -> tuple[str, dict]:
        """The next (action, payload) of the cycle, advancing the position."""
        action, status = CYCLE[self.pos]
        self.pos = (self.pos + 1) % len(CYCLE)
        ts = now_iso()
        if action == HB:
            return HB, {}
        if action == "StatusNotification":
            return action, {"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": ts}
        if action == AUTH:
            return AUTH, {"idTag": self.tag}
        if action == START:
            return START, {"connectorId": 1, "idTag": self.tag, "meterStart": self.meter, "timestamp": ts}
        if action == MV:
            self.meter += self.power // 120  # 30 s at this power, in Wh
            payload = {
                "connectorId": 1,
                "meterValue": [
                    {
                        "timestamp": ts,
                        "sampledValue": [
                            {
                                "value": str(self.meter),
                                "context": "Sample.Periodic",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                                "location": "Outlet",
                            },
                            {
                                "value": str(self.power),
                                "context": "Sample.Periodic",
                                "measurand": "Power.Active.Import",
                                "unit": "W",
                                "location": "Outlet",
                            },
                        ],
                    }
                ],
            }
            if self.tx is not None:
                payload["transactionId"] = self.tx
            return MV, payload
        # StopTransaction: without a transaction (the charger started mid-cycle) send a Heartbeat.
        if self.tx is None:
            return HB, {}
        tx, self.tx = self.tx, None
        return STOP, {
            "transactionId": tx,
            "meterStop": self.meter,
            "timestamp": ts,
            "idTag": self.tag,
            "reason": "Local",
        }


def answer_command(action: str, payload: dict) -> dict | None:
    """What a simulated charger answers to a CSMS command (None: NotImplemented)."""
    if action in (
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "ChangeAvailability",
        "ChangeConfiguration",
        "TriggerMessage",
        "ClearCache",
        "UnlockConnector",
    ):
        if action == "UnlockConnector":
            return {"status": "Unlocked"}
        return {"status": "Accepted"}
    if action == "GetConfiguration":
        return {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}
    if action == "DataTransfer":
        return {"status": "Accepted"}
    return None
