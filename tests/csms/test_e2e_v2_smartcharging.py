"""End to end over a real websocket: an OCPP 2.0.1 station takes a station maximum
(SetChargingProfile), answers GetCompositeSchedule, and installs firmware
(UpdateFirmware -> FirmwareStatusNotification ... Installed). The commands go from this
test process through the Redis channel layer to the live server holding the socket; the
server's answered_* hooks and handlers store what the station says."""

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
import websockets
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint as Station201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.smartcharging import firmware as fw
from apps.smartcharging import services as sc
from apps.smartcharging.models import ChargingProfile, CompositeSchedule, FirmwareUpdate
from tests.csms.e2e import basic

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-07"
IDENTITY = "V2-SC-E2E"


class Station(Station201):
    """A minimal 2.0.1 station: keeps the profiles it is given, computes a (trivial)
    composite schedule from them, and walks a firmware update to Installed."""

    profiles: dict
    received: list

    @on("SetChargingProfile")
    async def on_set_charging_profile(self, evse_id, charging_profile, **kw):
        self.received.append("SetChargingProfile")
        self.profiles[charging_profile["id"]] = (evse_id, charging_profile)
        return call_result.SetChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    async def on_get_composite_schedule(self, duration, evse_id, **kw):
        self.received.append("GetCompositeSchedule")
        limits = [p["charging_schedule"][0]["charging_schedule_period"] for _, p in self.profiles.values()]
        if not limits:
            return call_result.GetCompositeSchedule(status="Rejected")
        # The library camelCases the answer: snake_case here.
        schedule = {
            "evse_id": evse_id,
            "duration": duration,
            "schedule_start": "2026-11-25T10:00:00Z",
            "charging_rate_unit": "A",
            "charging_schedule_period": [{"start_period": p["start_period"], "limit": p["limit"]} for p in limits[0]],
        }
        return call_result.GetCompositeSchedule(status="Accepted", schedule=schedule)

    @on("UpdateFirmware")
    async def on_update_firmware(self, request_id, firmware, **kw):
        self.received.append("UpdateFirmware")
        return call_result.UpdateFirmware(status="Accepted")

    @after("UpdateFirmware")
    async def after_update_firmware(self, request_id, firmware, **kw):
        # Never await a call inside the receive path: report progress from a task of its own.
        asyncio.create_task(self._install(request_id))

    async def _install(self, request_id):
        for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"):
            await self.call(call201.FirmwareStatusNotification(status=status, request_id=request_id))


def _wait(predicate, timeout=8.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_201_station_profile_composite_schedule_and_firmware(e2e_db):
    e2e_db.run(charge_point_create, identity=IDENTITY, password=PASSWORD)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(20)

    async def connect():
        ws = await websockets.connect(
            e2e_db.url(IDENTITY),
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic(IDENTITY, PASSWORD),
            open_timeout=5,
        )
        station = Station(IDENTITY, ws, response_timeout=10)
        station.profiles, station.received = {}, []
        return ws, station, asyncio.create_task(station.start())

    ws, station, task = run(connect())
    try:
        boot = run(
            station.call(
                call201.BootNotification(
                    charging_station={"model": "Wallbox X", "vendor_name": "ACME"}, reason="PowerUp"
                )
            )
        )
        assert boot.status == "Accepted"

        def set_max():
            cp = ChargePoint.objects.get(identity=IDENTITY)
            profile = sc.charging_profile_build(
                charge_point=cp, purpose="ChargingStationMaxProfile", limit=16, now=datetime.now(UTC)
            )
            return sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile, timeout=10)

        outcome = e2e_db.run(set_max)
        assert outcome.ok, outcome
        assert station.received == ["SetChargingProfile"]
        row = e2e_db.run(ChargingProfile.objects.get, charge_point__identity=IDENTITY)
        assert (row.status, row.purpose, row.evse_id) == ("accepted", "ChargingStationMaxProfile", 0)

        def composite():
            cp = ChargePoint.objects.get(identity=IDENTITY)
            return sc.composite_schedule_request(charge_point=cp, evse_id=0, duration=3600, timeout=10)

        got = e2e_db.run(composite)
        assert got.answer == "Accepted", got
        # Stored by the server's answered_get_composite_schedule hook.
        stored = _wait(lambda: e2e_db.run(lambda: CompositeSchedule.objects.filter(status="Accepted").first()))
        assert stored.schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16.0}]
        assert sc.composite_chart(stored.schedule)["top"] == 16.0

        def update():
            cp = ChargePoint.objects.get(identity=IDENTITY)
            created = fw.firmware_update_create(
                charge_point=cp, location="https://fw.example/acme-2.bin", retrieve_at=datetime.now(UTC)
            )
            return fw.firmware_update_send(update=created, timeout=10)

        sent = e2e_db.run(update)
        assert sent.answer == "Accepted" and sent.request_id == 1

        def installed():
            u = FirmwareUpdate.objects.get(pk=sent.pk)
            return u if u.status == "Installed" else None

        done = _wait(lambda: e2e_db.run(installed))
        assert [s["status"] for s in done.timeline] == [
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallRebooting",
            "Installed",
        ]
        assert e2e_db.run(ChargePoint.objects.get, identity=IDENTITY).firmware_status == "Installed"
    finally:
        task.cancel()
        run(ws.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
