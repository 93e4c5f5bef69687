"""End to end, OCPP 2.0.1 block N (N01 log upload): an operator asks for a log on the
portal, a real 2.0.1 station (the `ocpp` library over `websockets`) receives GetLog over
the Redis command bus, HTTP-PUTs its file to the one-time remoteLocation on the live
server, reports Uploading / Uploaded, and the operator downloads the file."""

import asyncio
import contextlib
import http.client
import threading
from urllib.parse import urlsplit

import pytest
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create
from tests.csms.e2e import basic, now_iso

pytestmark = [pytest.mark.e2e]
IDENTITY = "E2E-DIAG"
PASSWORD = "s3cret-charger-pass-02"
LOG = b"2026-11-25T10:00:00Z boot ok\n2026-11-25T10:01:00Z connector 1 hot\n" * 50


class Station(ChargePoint):
    """A 2.0.1 station that uploads its log the way many do: PUT of the raw file."""

    def __init__(self, identity, ws, server):
        super().__init__(identity, ws, response_timeout=10)
        self.server = server
        self.get_log: dict | None = None
        self.upload_status: int | None = None
        self.tasks: set = set()

    @on("GetLog")
    async def on_get_log(self, log_type, request_id, log, **kw):
        self.get_log = {"log_type": log_type, "request_id": request_id, **log}
        # Upload after answering: the CSMS hears Accepted first, as on a real station.
        task = asyncio.create_task(self._upload(request_id, log["remote_location"]))
        self.tasks.add(task)
        return call_result.GetLog(status="Accepted", filename="station.log")

    async def _upload(self, request_id: int, location: str):
        await asyncio.sleep(0.1)
        await self.call(call.LogStatusNotification(status="Uploading", request_id=request_id))
        self.upload_status = await asyncio.to_thread(self._put, location)
        final = "Uploaded" if self.upload_status in (200, 201, 204) else "UploadFailure"
        await self.call(call.LogStatusNotification(status=final, request_id=request_id))

    def _put(self, location: str) -> int:
        # The URL names the organisation's domain; "DNS" here is the live server's address.
        url = urlsplit(location)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("PUT", url.path, body=LOG, headers={"Host": url.netloc, "Content-Type": "text/plain"})
            return conn.getresponse().status
        finally:
            conn.close()


@contextlib.contextmanager
def running_station(server):
    """The station on its own event loop thread: the test's thread makes blocking portal calls."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    state = {}

    async def open_():
        ws = await websockets.connect(
            server.url(IDENTITY),
            host="127.0.0.1",
            port=server.port,
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic(IDENTITY, PASSWORD),
            open_timeout=5,
        )
        station = Station(IDENTITY, ws, server)
        state["ws"], state["task"] = ws, asyncio.create_task(station.start())
        boot = await station.call(
            call.BootNotification(charging_station={"model": "Diag-1", "vendor_name": "EVzoneTest"}, reason="PowerUp")
        )
        assert boot.status == "Accepted"
        await station.call(
            call.StatusNotification(timestamp=now_iso(), connector_status="Available", evse_id=1, connector_id=1)
        )
        return station

    def run(coro, timeout=15):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    try:
        yield run(open_()), run
    finally:

        async def close():
            await state["ws"].close()
            state["task"].cancel()

        try:
            run(close())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()


def _portal_client(server):
    """A Django test client signed in as a technician, its session stored in the shared
    database so the live server accepts the same cookie."""
    from django.test import Client

    from tests.factories.accounts import UserFactory

    user = server.run(UserFactory, role=Role.TECHNICIAN)
    client = Client(HTTP_HOST=server.host)
    server.run(lambda: client.force_login(user, backend="django.contrib.auth.backends.ModelBackend"))
    return client


def _http_get(server, path: str, cookie: str):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": server.host, "Cookie": f"sessionid={cookie}"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_get_log_upload_and_download(e2e_db):
    from apps.diagnostics.models import LogRequest

    e2e_db.run(charge_point_create, identity=IDENTITY, password=PASSWORD)
    client = _portal_client(e2e_db)
    with running_station(e2e_db) as (station, run):
        response = e2e_db.run(
            lambda: client.post(f"/chargers/{IDENTITY}/diagnostics/log/", {"log_type": "DiagnosticsLog"})
        )
        assert response.status_code == 302
        assert station.get_log["log_type"] == "DiagnosticsLog"
        location = station.get_log["remote_location"]
        assert urlsplit(location).hostname == e2e_db.host and "/diagnostics/upload/" in location

        def uploaded():
            row = LogRequest.objects.filter(charge_point__identity=IDENTITY).first()
            return row if row and row.status == "Uploaded" else None

        async def wait():
            for _ in range(100):
                row = await asyncio.to_thread(e2e_db.run, uploaded)
                if row:
                    return row
                await asyncio.sleep(0.1)
            raise AssertionError("no Uploaded status")

        lr = run(wait())
        assert station.upload_status == 201
        assert (lr.answer, lr.station_filename, lr.file_size) == ("Accepted", "station.log", len(LOG))
        assert [e.status for e in e2e_db.run(lambda: list(lr.timeline.all()))] == ["Uploading", "Uploaded"]

    # The file lives in the live server's storage: download it from there, as the operator.
    cookie = client.cookies["sessionid"].value
    page_status, _, page = _http_get(e2e_db, f"/chargers/{IDENTITY}/diagnostics/", cookie)
    assert page_status == 200 and b"station.log" in page and b"Uploaded" in page
    status, headers, body = _http_get(e2e_db, f"/chargers/{IDENTITY}/diagnostics/log/{lr.pk}/file/", cookie)
    assert status == 200 and body == LOG
    assert "attachment" in headers.get("content-disposition", "")
    # The upload address was for one file only.
    conn = http.client.HTTPConnection("127.0.0.1", e2e_db.port, timeout=10)
    conn.request("PUT", urlsplit(location).path, body=b"again", headers={"Host": e2e_db.host})
    assert conn.getresponse().status == 410
    conn.close()
