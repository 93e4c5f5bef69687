"""Portal pages: a charger's smart charging page (profiles, limit form, composite chart),
its firmware page, and firmware campaigns. The charger is the fake command_bus."""

import pytest
from django.db import connection

from apps.accounts.models import Role
from apps.smartcharging import services as sc
from apps.smartcharging.models import ChargingProfile, FirmwareCampaign, FirmwareUpdate


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="SC-P", ocpp201=True, online=True)


@pytest.fixture
def tech(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))


def test_smart_charging_page_set_limit_and_chart(cp, tech, command_bus, in_tenant_a):
    url = f"/chargers/{cp.identity}/smart-charging/"
    assert tech.get(url).status_code == 200
    form = {
        "purpose": "ChargingStationMaxProfile",
        "evse_id": "0",
        "limit": "32",
        "unit": "A",
        "stack_level": "0",
        "window_start": "17:00",
        "window_end": "21:00",
        "window_limit": "10",
    }
    response = tech.post(url + "set/", form)
    assert response.status_code == 302
    connection.set_tenant(in_tenant_a)
    row = ChargingProfile.objects.get(charge_point=cp)
    assert (row.status, row.purpose, row.kind) == ("accepted", "ChargingStationMaxProfile", "Recurring")
    # Setting it again replaces EVzone's profile (same id) instead of stacking a conflicting one.
    tech.post(url + "set/", {**form, "limit": "20", "window_start": "", "window_end": "", "window_limit": ""})
    assert ChargingProfile.objects.filter(charge_point=cp).count() == 1
    assert command_bus.sent[-1]["chargingProfile"]["id"] == row.profile_id
    sc.composite_schedule_record(
        charge_point_id=cp.pk,
        evse_id=0,
        duration=3600,
        status="Accepted",
        schedule={
            "evseId": 0,
            "duration": 3600,
            "scheduleStart": "2026-11-25T10:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20.0}, {"startPeriod": 1800, "limit": 10.0}],
        },
    )
    page = tech.get(url).content.decode()
    assert "<svg" in page and "peak 20.0 A" in page and "Station maximum" in page
    # Invalid input comes back as a message, nothing sent.
    before = len(command_bus.sent)
    tech.post(url + "set/", {**form, "purpose": "TxDefaultProfile", "window_end": ""})
    assert len(command_bus.sent) == before


def test_firmware_pages_and_campaign(
    cp, tech, command_bus, tenant_a, make_user, login, django_capture_on_commit_callbacks
):
    assert tech.get(f"/chargers/{cp.identity}/firmware/").status_code == 200
    response = tech.post(
        f"/chargers/{cp.identity}/firmware/update/", {"location": "https://fw.example/a.bin", "retrieve_at": ""}
    )
    assert response.status_code == 302 and command_bus.sent[-1]["action"] == "UpdateFirmware"
    with django_capture_on_commit_callbacks(execute=True):
        response = tech.post(
            "/firmware/campaigns/new/",
            {
                "name": "Winter",
                "location": "https://fw.example/b.bin",
                "retrieve_at": "2026-12-01T02:00",
                "charge_points": [cp.pk],
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    connection.set_tenant(tenant_a)
    campaign = FirmwareCampaign.objects.get(name="Winter")
    assert FirmwareUpdate.objects.get(campaign=campaign).answer == "Accepted"
    page = tech.get(f"/firmware/campaigns/{campaign.pk}/").content.decode()
    assert "SC-P" in page and "In progress: 1" in page
    assert "Winter" in tech.get("/firmware/campaigns/").content.decode()
    # Finance sees nothing to operate.
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.post("/firmware/campaigns/new/", {}).status_code == 403
