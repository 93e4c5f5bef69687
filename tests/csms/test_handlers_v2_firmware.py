"""OCPP 2.0.1 / 2.1 block L handlers: FirmwareStatusNotification per requestId,
PublishFirmwareStatusNotification, and the UpdateFirmware / PublishFirmware answers."""

import pytest

from apps.chargers.models import ChargePoint, ChargerEvent
from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.smartcharging.models import FirmwarePublication, FirmwareUpdate
from tests.csms.harness import Harness

UPDATE = {
    "requestId": 3,
    "firmware": {
        "location": "https://fw.example/x.bin",
        "retrieveDateTime": "2026-12-01T02:00:00Z",
        "signingCertificate": "-----BEGIN CERTIFICATE-----",
        "signature": "c2ln",
    },
}


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-L", password="a-good-charger-password")
    return Harness(cp, request.param)


def test_firmware_status_timeline(h):
    h.answered("UpdateFirmware", UPDATE, {"status": "Accepted"})
    update = FirmwareUpdate.objects.get(charge_point=h.cp, request_id=3)
    assert (update.answer, update.signed, update.location) == ("Accepted", True, "https://fw.example/x.bin")
    for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"):
        assert h.ok("FirmwareStatusNotification", {"status": status, "requestId": 3}) == {}
    update.refresh_from_db()
    assert [s["status"] for s in update.timeline][-3:] == ["Installing", "InstallRebooting", "Installed"]
    assert update.finished_at is not None
    assert ChargePoint.objects.get(pk=h.cp.pk).firmware_status == "Installed"
    # Triggered with no update going on: no requestId.
    assert h.ok("FirmwareStatusNotification", {"status": "Idle"}) == {}
    assert ChargePoint.objects.get(pk=h.cp.pk).firmware_status == "Idle"
    assert ChargerEvent.objects.filter(charge_point=h.cp, kind="FirmwareStatusNotification").count() == 7
    assert h.error("FirmwareStatusNotification", {"status": "Exploded", "requestId": 3})[0] == (
        "PropertyConstraintViolation"
    )


def test_failure_statuses(h):
    h.answered("UpdateFirmware", UPDATE, {"status": "Accepted"})
    h.ok("FirmwareStatusNotification", {"status": "InvalidSignature", "requestId": 3})
    assert FirmwareUpdate.objects.get(request_id=3).finished_at is not None


def test_publish_firmware_flow(h):
    payload = {"location": "https://fw.example/x.bin", "checksum": "0123456789abcdef0123456789abcdef", "requestId": 8}
    h.answered("PublishFirmware", payload, {"status": "Accepted"})
    h.ok("PublishFirmwareStatusNotification", {"status": "ChecksumVerified", "requestId": 8})
    h.ok(
        "PublishFirmwareStatusNotification",
        {"status": "Published", "requestId": 8, "location": ["http://lc/x.bin", "ftp://lc/x.bin"]},
    )
    pub = FirmwarePublication.objects.get(charge_point=h.cp, request_id=8)
    assert (pub.answer, pub.status, len(pub.published_locations)) == ("Accepted", "Published", 2)
    h.answered("UnpublishFirmware", {"checksum": payload["checksum"]}, {"status": "Unpublished"})
    pub.refresh_from_db()
    assert pub.unpublished_at is not None
