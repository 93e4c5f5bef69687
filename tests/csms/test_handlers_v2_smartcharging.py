"""OCPP 2.0.1 / 2.1 block K handlers: ReportChargingProfiles, NotifyChargingLimit,
ClearedChargingLimit, NotifyEVChargingNeeds / Schedule, the answered_* hooks, and 2.1's
PullDynamicScheduleUpdate -- both versions answer the same."""

import pytest

from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.smartcharging.models import (
    ChargingLimit,
    ChargingProfile,
    ChargingProfileReport,
    CompositeSchedule,
    EVChargingNeeds,
)
from tests.csms.harness import Harness

SCHEDULE = {
    "id": 1,
    "startSchedule": "2026-11-25T00:00:00Z",
    "chargingRateUnit": "W",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}, {"startPeriod": 3600, "limit": 7400.0}],
}
PROFILE = {
    "id": 5,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [SCHEDULE],
}


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-K", password="a-good-charger-password")
    return Harness(cp, request.param)


def test_set_charging_profile_answer_is_stored(h):
    h.answered("SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE}, {"status": "Accepted"})
    row = ChargingProfile.objects.get(charge_point=h.cp, profile_id=5)
    assert (row.status, row.evse_id, row.stack_level, row.schedules) == ("accepted", 1, 1, [SCHEDULE])
    h.answered(
        "SetChargingProfile",
        {"evseId": 1, "chargingProfile": {**PROFILE, "id": 6, "stackLevel": 2}},
        {"status": "Rejected", "statusInfo": {"reasonCode": "TxNotFound"}},
    )
    assert ChargingProfile.objects.get(profile_id=6).status == "rejected"
    h.answered("ClearChargingProfile", {"chargingProfileId": 5}, {"status": "Accepted"})
    assert ChargingProfile.objects.get(profile_id=5).status == "cleared"


def test_report_charging_profiles_multi_part(h):
    h.answered("GetChargingProfiles", {"requestId": 42, "chargingProfile": {}}, {"status": "Accepted"})
    assert ChargingProfileReport.objects.get(charge_point=h.cp, request_id=42).status == "requested"
    part = {"requestId": 42, "chargingLimitSource": "CSO", "evseId": 1, "chargingProfile": [PROFILE], "tbc": True}
    assert h.ok("ReportChargingProfiles", part) == {}
    ems = {
        **PROFILE,
        "id": 900,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationExternalConstraints",
    }
    part2 = {"requestId": 42, "chargingLimitSource": "EMS", "evseId": 0, "chargingProfile": [ems]}
    assert h.ok("ReportChargingProfiles", part2) == {}
    report = ChargingProfileReport.objects.get(charge_point=h.cp, request_id=42)
    assert (report.status, report.parts, report.profiles) == ("complete", 2, 2)
    rows = {p.profile_id: p for p in ChargingProfile.objects.filter(charge_point=h.cp)}
    assert rows[5].source == "station" and rows[5].schedules == [SCHEDULE]
    assert (rows[900].source, rows[900].evse_id, rows[900].charging_limit_source) == ("external", 0, "EMS")
    assert h.error("ReportChargingProfiles", {**part, "evseId": -1})[0] == "PropertyConstraintViolation"


def test_v21_profile_additions_survive_in_wire_form(in_tenant_a):
    cp = charge_point_create(identity="CP-K21", password="a-good-charger-password")
    h = Harness(cp, V21Session)
    period = {
        "startPeriod": 0,
        "limit": 11000.0,
        "limit_L2": 3000.0,
        "dischargeLimit": -5000.0,
        "operationMode": "ChargingOnly",
    }
    profile = {
        **PROFILE,
        "chargingProfileKind": "Dynamic",
        "dynUpdateInterval": 60,
        "chargingSchedule": [
            {**SCHEDULE, "limitAtSoC": {"soc": 80, "limit": 3000.0}, "chargingSchedulePeriod": [period]}
        ],
    }
    part = {"requestId": 1, "chargingLimitSource": "CSO", "evseId": 1, "chargingProfile": [profile]}
    assert h.ok("ReportChargingProfiles", part) == {}
    row = ChargingProfile.objects.get(charge_point=cp, profile_id=5)
    assert row.profile == profile and row.extra == {"dynUpdateInterval": 60}
    # PullDynamicScheduleUpdate: the period in force of an installed Dynamic profile.
    answer = h.ok("PullDynamicScheduleUpdate", {"chargingProfileId": 5})
    assert answer == {
        "status": "Accepted",
        # Per-phase values (limit_L2) cannot pass the session's camelCasing of answers.
        "scheduleUpdate": {"limit": 11000.0, "dischargeLimit": -5000.0},
    }
    assert h.ok("PullDynamicScheduleUpdate", {"chargingProfileId": 99})["status"] == "Rejected"


def test_pull_dynamic_schedule_update_is_21_only(in_tenant_a):
    cp = charge_point_create(identity="CP-K201", password="a-good-charger-password")
    assert Harness(cp, V201Session).error("PullDynamicScheduleUpdate", {"chargingProfileId": 1})[0] == "NotImplemented"


def test_notify_charging_limit_and_cleared(h):
    payload = {
        "chargingLimit": {"chargingLimitSource": "SO", "isGridCritical": True},
        "evseId": 1,
        "chargingSchedule": [SCHEDULE],
    }
    assert h.ok("NotifyChargingLimit", payload) == {}
    assert h.ok("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "EMS"}}) == {}
    so = ChargingLimit.objects.get(charge_point=h.cp, source="SO")
    assert (so.is_grid_critical, so.evse_id, so.schedules, so.cleared_at) == (True, 1, [SCHEDULE], None)
    assert h.ok("ClearedChargingLimit", {"chargingLimitSource": "SO", "evseId": 1}) == {}
    so.refresh_from_db()
    assert so.cleared_at is not None
    assert ChargingLimit.objects.get(source="EMS").cleared_at is None


def test_notify_ev_charging_needs_and_schedule(h):
    needs = {
        "requestedEnergyTransfer": "AC_three_phase",
        "departureTime": "2026-11-25T18:00:00Z",
        "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400},
    }
    assert h.ok("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": needs, "maxScheduleTuples": 24}) == {
        "status": "Accepted"
    }
    row = EVChargingNeeds.objects.get(charge_point=h.cp, kind="needs")
    assert (row.requested_energy_transfer, row.max_schedule_tuples, row.data) == ("AC_three_phase", 24, needs)
    assert row.departure_time.isoformat() == "2026-11-25T18:00:00+00:00"
    assert h.error("NotifyEVChargingNeeds", {"evseId": 0, "chargingNeeds": needs})[0] == "PropertyConstraintViolation"
    ev_schedule = {"id": 2, "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}]}
    answer = h.ok(
        "NotifyEVChargingSchedule", {"timeBase": "2026-11-25T10:00:00Z", "evseId": 1, "chargingSchedule": ev_schedule}
    )
    assert answer == {"status": "Accepted"}
    assert EVChargingNeeds.objects.get(kind="schedule").data["chargingSchedule"] == ev_schedule


def test_composite_schedule_answer_is_stored(h):
    schedule = {
        "evseId": 1,
        "duration": 3600,
        "scheduleStart": "2026-11-25T10:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    }
    h.answered("GetCompositeSchedule", {"evseId": 1, "duration": 3600}, {"status": "Accepted", "schedule": schedule})
    cs = CompositeSchedule.objects.get(charge_point=h.cp)
    assert (cs.status, cs.charging_rate_unit, cs.schedule) == ("Accepted", "A", schedule)
