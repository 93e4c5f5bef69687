"""OCPP 2.0.1 / 2.1 sessions: framing, error codes, boot, heartbeat, status, security
events, data transfer and the store-and-accept fallback -- for both versions."""

import json
from datetime import UTC, datetime

import pytest

from apps.chargers.models import ChargePoint, ChargerEvent, Connector
from apps.chargers.services import charge_point_create
from apps.csms.handlers import negotiate_subprotocol, session_class
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.csms.services import csms_settings_update
from tests.csms.harness import Harness, ts

BOOT = {
    "chargingStation": {
        "model": "Wallbox X",
        "vendorName": "ACME",
        "serialNumber": "SN-1",
        "firmwareVersion": "1.2.3",
        "modem": {"iccid": "8949", "imsi": "2620"},
    },
    "reason": "PowerUp",
}


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-V2", password="a-good-charger-password")
    return Harness(cp, request.param)


def test_newest_common_version_is_negotiated():
    assert negotiate_subprotocol(["ocpp1.6", "ocpp2.0.1"]) == "ocpp2.0.1"
    assert negotiate_subprotocol(["ocpp2.0.1", "OCPP2.1", "ocpp1.6"]) == "OCPP2.1"
    assert session_class("ocpp2.0.1") is V201Session and session_class("ocpp2.1") is V21Session


def test_boot_accepted_stores_station_data(h):
    csms_settings_update(heartbeat_interval=120)
    answer = h.ok("BootNotification", BOOT)
    assert answer["status"] == "Accepted" and answer["interval"] == 120
    datetime.fromisoformat(answer["currentTime"].replace("Z", "+00:00"))
    cp = ChargePoint.objects.get(pk=h.cp.pk)
    assert (cp.vendor, cp.model, cp.serial_number, cp.firmware_version) == ("ACME", "Wallbox X", "SN-1", "1.2.3")
    assert (cp.iccid, cp.imsi) == ("8949", "2620")


def test_pending_station_may_not_authorize_or_start(h):
    ChargePoint.objects.filter(pk=h.cp.pk).update(registration_status="Pending")
    assert h.ok("BootNotification", BOOT)["status"] == "Pending"
    code, _ = h.error("Authorize", {"idToken": {"idToken": "AA11", "type": "ISO14443"}})
    assert code == "SecurityError"
    assert h.ok("Heartbeat", {})["currentTime"]


def test_status_notification_per_evse_connector(h):
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    h.ok("StatusNotification", {"timestamp": ts(at), "connectorStatus": "Occupied", "evseId": 2, "connectorId": 1})
    c = Connector.objects.get(charge_point=h.cp, evse_id=2, connector_id=1)
    assert (c.status, c.status_at) == ("Occupied", at)


def test_error_codes_follow_ocpp_j_2x(h):
    assert h.raw("not json")[0][:3] == [4, "-1", "RpcFrameworkError"]
    assert h.raw('[9, "x", "Heartbeat", {}]')[0][2] == "MessageTypeNotSupported"
    assert h.error("BootNotification", {"reason": "PowerUp"})[0] == "OccurrenceConstraintViolation"
    assert h.error("BootNotification", {**BOOT, "reason": "Sunshine"})[0] == "PropertyConstraintViolation"
    assert h.error("BootNotification", {**BOOT, "extra": 1})[0] == "FormatViolation"
    assert h.error("Heartbeat", {"customData": {"vendorId": 5}})[0] == "TypeConstraintViolation"
    # A CSMS -> station action sent by a station: known, not supported; made-up: not implemented.
    assert h.error("Reset", {"type": "Immediate"})[0] == "NotSupported"
    assert h.error("MakeCoffee", {})[0] == "NotImplemented"


def test_custom_data_is_accepted_anywhere(h):
    payload = {**BOOT, "customData": {"vendorId": "com.acme", "colour": "blue"}}
    payload["chargingStation"] = {**BOOT["chargingStation"], "customData": {"vendorId": "com.acme"}}
    assert h.ok("BootNotification", payload)["status"] == "Accepted"


def test_security_event_and_data_transfer_are_kept(h):
    h.ok("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": "2026-11-25T10:00:00Z"})
    assert h.ok("DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": {"a": 1}}) == {
        "status": "UnknownVendorId"
    }
    kinds = set(ChargerEvent.objects.filter(charge_point=h.cp).values_list("kind", flat=True))
    assert {"SecurityEventNotification", "DataTransfer"} <= kinds


def test_v21_send_frames_are_never_answered(in_tenant_a):
    cp = charge_point_create(identity="CP-V21", password="a-good-charger-password")
    h = Harness(cp, V21Session)
    frame = [
        6,
        "s-1",
        "NotifyPeriodicEventStream",
        {"id": 1, "pending": 0, "basetime": "2026-11-25T10:00:00Z", "data": [{"t": 0, "v": "230.1"}]},
    ]
    assert h.raw(json.dumps(frame)) == []
    assert h.raw(json.dumps([6, "s-2", "NotifyPeriodicEventStream", {"id": "bad"}])) == []
    # CALLRESULTERROR from the station is logged, not answered.
    assert h.raw(json.dumps([5, "r-1", "FormatViolation", "bad answer", {}])) == []
    assert any(e["message_type"] == 5 for e in h.log)


def test_v201_rejects_v21_framing(in_tenant_a):
    cp = charge_point_create(identity="CP-V201", password="a-good-charger-password")
    h = Harness(cp, V201Session)
    assert h.raw(json.dumps([6, "s-1", "Heartbeat", {}]))[0][2] == "MessageTypeNotSupported"


@pytest.fixture
def h21(in_tenant_a):
    cp = charge_point_create(identity="CP-V21B", password="a-good-charger-password")
    return Harness(cp, V21Session)


def test_v21_periodic_event_stream_is_kept(h21):
    params = {"id": 3, "variableMonitoringId": 12, "params": {"interval": 10, "values": 5}}
    assert h21.ok("OpenPeriodicEventStream", {"constantStreamData": params}) == {"status": "Accepted"}
    send = [
        6,
        "s-9",
        "NotifyPeriodicEventStream",
        {
            "id": 3,
            "pending": 0,
            "basetime": "2026-11-25T10:00:00Z",
            "data": [{"t": 0, "v": "230.1"}, {"t": 10, "v": "229.8"}],
        },
    ]
    assert h21.raw(json.dumps(send)) == []
    assert h21.ok("ClosePeriodicEventStream", {"id": 3}) == {}
    events = ChargerEvent.objects.filter(charge_point=h21.cp, request_id=3).order_by("id")
    assert [e.kind for e in events] == [
        "OpenPeriodicEventStream",
        "NotifyPeriodicEventStream",
        "ClosePeriodicEventStream",
    ]
    assert events[1].payload["data"][1] == {"t": 10, "v": "229.8"}
    assert events[1].timestamp == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_v21_vat_number_validation_checks_the_number(h21):
    good = h21.ok("VatNumberValidation", {"vatNumber": "DE136695976", "evseId": 1})
    assert (good["status"], good["vatNumber"], good["evseId"]) == ("Accepted", "DE136695976", 1)
    bad = h21.ok("VatNumberValidation", {"vatNumber": "DE136695977"})
    assert bad["status"] == "Rejected" and bad["statusInfo"]["reasonCode"] == "InvalidValue"


def test_v21_only_messages_are_stored_not_refused(h21):
    settlement = {
        "pspRef": "psp-1",
        "status": "Settled",
        "settlementAmount": 12.5,
        "settlementTime": "2026-11-25T11:00:00Z",
        "transactionId": "tx-1",
    }
    assert h21.ok("NotifySettlement", settlement) == {}
    assert ChargerEvent.objects.get(charge_point=h21.cp, kind="NotifySettlement").payload["pspRef"] == "psp-1"


def test_v21_messages_are_unknown_to_v201(in_tenant_a):
    h = Harness(charge_point_create(identity="CP-V201C", password="a-good-charger-password"), V201Session)
    assert h.error("VatNumberValidation", {"vatNumber": "DE136695976"})[0] == "NotImplemented"


@pytest.mark.parametrize("cls", [V201Session, V21Session], ids=["2.0.1", "2.1"])
def test_every_station_message_has_an_answer(cls):
    """No station -> CSMS message of either version is refused as NotSupported: each has a
    handler, or is a notification the fallback keeps."""
    from apps.csms.handlers.base import ChargerContext

    session = cls(ctx=ChargerContext(schema="x", charge_point_id=1, identity="X"), send=None)
    missing = [
        action
        for action in sorted(cls.inbound_actions)
        if not (session.route_map.get(action) or {}).get("_on_action") and session.fallback_handler(action) is None
    ]
    assert missing == []
