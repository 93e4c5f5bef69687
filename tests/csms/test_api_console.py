"""The raw OCPP console and the message log over HTTP, against a live charger."""

import time

import pytest
from django.test import Client

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.csms.models import Command, MessageLog
from tests.csms.e2e import BackgroundCharger

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-01"


@pytest.fixture
def api(e2e_db, api_client):
    e2e_db.run(charge_point_create, identity="API-CP", password=PASSWORD)
    return api_client(Role.TECHNICIAN)


def post(client, action, payload, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"/api/v1/charge-points/API-CP/ocpp/{action}" + (f"?{query}" if query else ""), payload)


def test_console_ok_error_invalid_offline_timeout(e2e_db, api):
    assert post(api, "Reset", {"type": "Soft"}).status_code == 409
    with BackgroundCharger(e2e_db, "API-CP", password=PASSWORD) as cp:
        response = post(api, "RemoteStartTransaction", {"idTag": "TAG-001", "connectorId": 1})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "ok" and body["response"] == {"status": "Accepted"}
        assert cp.received[-1] == ("RemoteStartTransaction", {"id_tag": "TAG-001", "connector_id": 1})
        record = e2e_db.run(Command.objects.select_related("user").get, pk=body["command_id"])
        assert (record.status, record.response, record.source) == ("ok", {"status": "Accepted"}, "api")
        assert record.user.role == Role.TECHNICIAN and record.payload == {"idTag": "TAG-001", "connectorId": 1}

        invalid = post(api, "Reset", {"type": "Lukewarm"})
        assert invalid.status_code == 400
        assert invalid.json()["code"] == "PropertyConstraintViolation"
        assert post(api, "Reset", {}).status_code == 400
        unknown = post(api, "SelfDestruct", {})
        assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_action")

        error = post(api, "GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"})
        assert error.status_code == 200
        assert error.json()["status"] == "error" and error.json()["error"]["code"] in ("NotImplemented", "NotSupported")
        cp.delay["Reset"] = 1.4
        slow = post(api, "Reset", {"type": "Hard"}, timeout=1)
        assert slow.status_code == 504 and slow.json()["code"] == "timeout"
        time.sleep(0.5)  # let the charger's late answer go by before disconnecting


def test_console_needs_operator_role(e2e_db, api_client):
    e2e_db.run(charge_point_create, identity="API-CP", password=PASSWORD)
    assert post(api_client(Role.FINANCE), "Reset", {"type": "Soft"}).status_code == 403
    anonymous = e2e_db.run(
        lambda: Client(HTTP_HOST=e2e_db.host).post(
            "/api/v1/charge-points/API-CP/ocpp/Reset", {"type": "Soft"}, "application/json"
        )
    )
    assert anonymous.status_code == 401


def test_messages_endpoint_lists_every_frame(e2e_db, api):
    with BackgroundCharger(e2e_db, "API-CP", password=PASSWORD):
        assert post(api, "ClearCache", {}).status_code == 200
    cp_id = e2e_db.run(lambda: ChargePoint.objects.get(identity="API-CP").pk)
    deadline = time.monotonic() + 5
    while e2e_db.run(lambda: MessageLog.objects.filter(charge_point_id=cp_id).count()) < 4:
        assert time.monotonic() < deadline, "message log not written"
        time.sleep(0.1)
    rows = api.get("/api/v1/charge-points/API-CP/messages/").json()["results"]
    seen = {(r["direction"], r["message_type"], r["action"]) for r in rows}
    assert {
        ("in", 2, "BootNotification"),
        ("out", 3, "BootNotification"),
        ("out", 2, "ClearCache"),
        ("in", 3, "ClearCache"),
    } <= seen
    answer = next(r for r in rows if r["action"] == "ClearCache" and r["direction"] == "in")
    assert answer["payload"] == {"status": "Accepted"} and answer["latency_ms"] is not None
    only_out = api.get("/api/v1/charge-points/API-CP/messages/?direction=out&action=ClearCache").json()["results"]
    assert [(r["direction"], r["action"]) for r in only_out] == [("out", "ClearCache")]
    commands = api.get("/api/v1/charge-points/API-CP/commands/").json()["results"]
    assert commands[0]["action"] == "ClearCache" and commands[0]["user"]
