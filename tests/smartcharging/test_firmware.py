"""Firmware updates: the status timeline per requestId, signed firmware, 1.6 chargers,
campaigns fanned out over many chargers (Celery runs eagerly in tests), publishing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.chargers.models import ChargePoint, ChargerEvent, ChargerGroup
from apps.chargers.services import charger_event_record
from apps.smartcharging import firmware as fw
from apps.smartcharging import selectors
from apps.smartcharging.models import FirmwareCampaign, FirmwarePublication, FirmwareUpdate
from tests.factories.chargers import ChargePointFactory
from tests.smartcharging.fakes import FakeBus

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
URL = "https://fw.example/acme-2.0.bin"


@pytest.fixture
def bus(monkeypatch):
    fake = FakeBus()
    monkeypatch.setattr("apps.csms.commands.command_send", fake)
    return fake


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="FW-1", ocpp201=True, online=True)


def test_update_and_status_timeline(cp, bus):
    update = fw.firmware_update_create(charge_point=cp, location=URL, retrieve_at=AT, retries=2, retry_interval=60)
    update = fw.firmware_update_send(update=update)
    assert bus.sent[-1] == {
        "action": "UpdateFirmware",
        "requestId": 1,
        "retries": 2,
        "retryInterval": 60,
        "firmware": {"location": URL, "retrieveDateTime": "2026-12-01T02:00:00Z"},
    }
    assert (update.answer, fw.phase(update)) == ("Accepted", "in_progress")
    for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"):
        fw.firmware_status_record(charge_point_id=cp.pk, status=status, request_id=1)
    update.refresh_from_db()
    assert [s["status"] for s in update.timeline] == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert (fw.phase(update), update.finished_at is not None) == ("installed", True)
    cp.refresh_from_db()
    assert cp.firmware_status == "Installed"
    assert ChargerEvent.objects.filter(charge_point=cp, kind="FirmwareStatusNotification").count() == 6


def test_signed_firmware_and_failures(cp, bus):
    with pytest.raises(ValidationError):
        fw.firmware_update_create(charge_point=cp, location=URL, retrieve_at=AT, signature="c2ln")
    update = fw.firmware_update_create(
        charge_point=cp,
        location=URL,
        retrieve_at=AT,
        signing_certificate="-----BEGIN CERTIFICATE-----",
        signature="c2ln",
    )
    fw.firmware_update_send(update=update)
    firmware = bus.sent[-1]["firmware"]
    assert firmware["signature"] == "c2ln" and firmware["signingCertificate"].startswith("-----BEGIN")
    fw.firmware_status_record(charge_point_id=cp.pk, status="Downloaded", request_id=update.request_id)
    fw.firmware_status_record(charge_point_id=cp.pk, status="InvalidSignature", request_id=update.request_id)
    update.refresh_from_db()
    assert fw.phase(update) == "failed"
    bus.answers.append({"status": "InvalidCertificate"})
    refused = fw.firmware_update_send(
        update=fw.firmware_update_create(
            charge_point=cp, location=URL, retrieve_at=AT, signing_certificate="x", signature="y"
        )
    )
    assert fw.phase(refused) == "refused" and refused.request_id == update.request_id + 1


def test_accepted_canceled_supersedes_the_running_update(cp, bus):
    first = fw.firmware_update_send(update=fw.firmware_update_create(charge_point=cp, location=URL, retrieve_at=AT))
    fw.firmware_status_record(charge_point_id=cp.pk, status="Downloading", request_id=first.request_id)
    bus.answers.append("AcceptedCanceled")
    fw.firmware_update_send(update=fw.firmware_update_create(charge_point=cp, location=URL + "?v2", retrieve_at=AT))
    first.refresh_from_db()
    assert first.status == "Canceled" and fw.phase(first) == "failed"


def test_status_for_an_unknown_request_and_without_request(cp):
    fw.firmware_status_record(charge_point_id=cp.pk, status="Idle")
    assert FirmwareUpdate.objects.count() == 0
    fw.firmware_status_record(charge_point_id=cp.pk, status="Downloading", request_id=77)
    assert FirmwareUpdate.objects.get(charge_point=cp, request_id=77).status == "Downloading"


def test_v16_update_follows_the_chargers_notifications(in_tenant_a, bus):
    cp16 = ChargePointFactory(identity="FW-16", online=True)
    update = fw.firmware_update_send(update=fw.firmware_update_create(charge_point=cp16, location=URL, retrieve_at=AT))
    assert bus.sent[-1] == {"action": "UpdateFirmware", "location": URL, "retrieveDate": "2026-12-01T02:00:00Z"}
    assert update.request_id is None and update.answer == "Accepted"
    # What the 1.6 session stores for FirmwareStatusNotification (no requestId in 1.6).
    old = charger_event_record(charge_point_id=cp16.pk, kind="FirmwareStatusNotification", status="Installed")
    ChargerEvent.objects.filter(pk=old.pk).update(timestamp=update.sent_at - timedelta(hours=1))
    for status in ("Downloading", "Downloaded", "Installing", "Installed"):
        charger_event_record(
            charge_point_id=cp16.pk, kind="FirmwareStatusNotification", status=status, firmware_status=status
        )
    overview = selectors.charger_firmware_overview(charge_point=cp16)
    row = overview["updates"][0]
    assert [s["status"] for s in row.timeline] == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert row.phase == "installed"


def test_campaign_fans_out_over_group_location_and_selection(in_tenant_a, bus, django_capture_on_commit_callbacks):
    from apps.chargers.services import location_create

    a = ChargePointFactory(identity="FW-A", ocpp201=True, online=True)
    b = ChargePointFactory(identity="FW-B", ocpp21=True, online=True)
    c = ChargePointFactory(identity="FW-C", online=True)
    off = ChargePointFactory(identity="FW-OFF", ocpp201=True, online=False)
    group = ChargerGroup.objects.create(name="Depot")
    group.charge_points.set([a, b])
    site = location_create(name="Yard", address="1 Road", city="Town", country="DE")
    ChargePoint.objects.filter(pk=off.pk).update(location=site)
    targets = fw.campaign_targets(charge_points=[c], group=group, location=site)
    assert [t.identity for t in targets] == ["FW-A", "FW-B", "FW-C", "FW-OFF"]
    bus.answers.extend(["Accepted", "Rejected", "Accepted", "offline"])
    with django_capture_on_commit_callbacks(execute=True):
        campaign = fw.firmware_campaign_create(name="Winter", location=URL, retrieve_at=AT, charge_points=targets)
    actions = sorted((s["action"], "requestId" in s) for s in bus.sent)
    assert actions == [
        ("UpdateFirmware", False),
        ("UpdateFirmware", True),
        ("UpdateFirmware", True),
        ("UpdateFirmware", True),
    ]
    detail = selectors.campaign_detail(campaign=campaign)
    counts = {c["phase"]: c["count"] for c in detail["counts"]}
    assert counts == {"pending": 0, "undelivered": 1, "refused": 1, "in_progress": 2, "installed": 0, "failed": 0}
    assert detail["can_retry"] and detail["sent_percent"] == 100
    fw.firmware_status_record(
        charge_point_id=a.pk, status="Installed", request_id=FirmwareUpdate.objects.get(charge_point=a).request_id
    )
    counts = {c["phase"]: c["count"] for c in selectors.campaign_detail(campaign=campaign)["counts"]}
    assert counts["installed"] == 1 and counts["in_progress"] == 1
    # The offline charger gets it on retry; the others are not sent twice.
    before = len(bus.sent)
    with django_capture_on_commit_callbacks(execute=True):
        assert fw.firmware_campaign_retry(campaign=campaign) == 1
    assert len(bus.sent) == before + 1
    assert FirmwareCampaign.objects.get(pk=campaign.pk).status == "sent"


def test_send_claim_prevents_double_send(cp, bus):
    campaign = FirmwareCampaign.objects.create(name="x", location=URL, retrieve_at=timezone.now())
    update = fw.firmware_update_create(charge_point=cp, location=URL, retrieve_at=AT, campaign=campaign)
    assert fw.firmware_update_send_pending(update_id=update.pk) == "Accepted"
    assert fw.firmware_update_send_pending(update_id=update.pk) == "skipped"
    assert len(bus.sent) == 1


def test_publish_firmware_on_a_local_controller(cp):
    with pytest.raises(ValidationError):
        fw.firmware_publication_create(charge_point=cp, location=URL, checksum="nope")
    pub = fw.firmware_publication_create(charge_point=cp, location=URL, checksum="0123456789ABCDEF0123456789abcdef")
    fw.firmware_publication_answer_record(charge_point_id=cp.pk, request_id=pub.request_id, answer="Accepted")
    fw.firmware_publish_status_record(charge_point_id=cp.pk, status="Downloading", request_id=pub.request_id)
    fw.firmware_publish_status_record(
        charge_point_id=cp.pk, status="Published", request_id=pub.request_id, locations=["http://lc.local/fw.bin"]
    )
    pub.refresh_from_db()
    assert (pub.answer, pub.status, pub.published_locations) == ("Accepted", "Published", ["http://lc.local/fw.bin"])
    assert fw.firmware_unpublished_record(charge_point_id=cp.pk, checksum=pub.checksum, answer="Unpublished") == 1
    assert FirmwarePublication.objects.get(pk=pub.pk).unpublished_at is not None
