"""Charging profiles: the K01 rules checked before sending, SetChargingProfile recorded
on the charger's answer, clearing, reports (K09) and composite schedules.

command_send is replaced by a fake charger at its seam (apps.csms.commands.command_send)."""

from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError

from apps.charging.models import Transaction
from apps.smartcharging import services as sc
from apps.smartcharging.models import ChargingProfile, ChargingProfileReport, CompositeSchedule
from apps.smartcharging.validation import profile_problems
from tests.factories.chargers import ChargePointFactory
from tests.smartcharging.fakes import FakeBus

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def bus(monkeypatch):
    fake = FakeBus()
    monkeypatch.setattr("apps.csms.commands.command_send", fake)
    return fake


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="SC-1", ocpp201=True, online=True)


def profile(**over):
    base = {
        "id": 10,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2026-11-25T00:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
            }
        ],
    }
    schedule_over = over.pop("schedule", {})
    base.update(over)
    base["chargingSchedule"] = [{**base["chargingSchedule"][0], **schedule_over}]
    return base


def _problems(cp, evse_id=0, **over):
    return " | ".join(profile_problems(charge_point=cp, evse_id=evse_id, profile=profile(**over)))


def test_k01_rules(cp):
    assert _problems(cp) == ""
    assert "evseId must be 0" in _problems(cp, 1, chargingProfilePurpose="ChargingStationMaxProfile")
    assert "cannot be Relative" in _problems(
        cp,
        0,
        chargingProfilePurpose="ChargingStationMaxProfile",
        chargingProfileKind="Relative",
        schedule={"startSchedule": None},
    )
    assert "never by the CSMS" in _problems(cp, 0, chargingProfilePurpose="ChargingStationExternalConstraints")
    assert "needs the transactionId" in _problems(cp, 1, chargingProfilePurpose="TxProfile")
    assert "evseId must be above 0" in _problems(cp, 0, chargingProfilePurpose="TxProfile", transactionId="T1")
    assert "no active transaction T1 on EVSE 1" in _problems(
        cp, 1, chargingProfilePurpose="TxProfile", transactionId="T1"
    )
    assert "Only a TxProfile" in _problems(cp, 0, transactionId="T1")
    assert "needs a startSchedule" in _problems(cp, schedule={"startSchedule": None})
    assert "Relative profile has no startSchedule" in _problems(cp, chargingProfileKind="Relative")
    assert "needs a recurrencyKind" in _problems(cp, chargingProfileKind="Recurring")
    assert "first period must start at 0" in _problems(
        cp, schedule={"chargingSchedulePeriod": [{"startPeriod": 5, "limit": 6}]}
    )
    ordered = [{"startPeriod": 0, "limit": 6}, {"startPeriod": 600, "limit": 8}, {"startPeriod": 600, "limit": 9}]
    assert "increasing order" in _problems(cp, schedule={"chargingSchedulePeriod": ordered})
    assert "at most one decimal" in _problems(
        cp, schedule={"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.25}]}
    )
    assert "phaseToUse is only allowed with numberPhases 1" in _problems(
        cp, schedule={"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6, "numberPhases": 3, "phaseToUse": 2}]}
    )
    assert "validTo must be after validFrom" in _problems(
        cp, validFrom="2026-11-25T10:00:00Z", validTo="2026-11-25T09:00:00Z"
    )


def test_txprofile_needs_an_active_transaction_on_that_evse(cp):
    Transaction.objects.create(
        charge_point=cp, evse_id=1, connector_id=1, transaction_id="T1", meter_start=0, started_at=NOW, start_key="k1"
    )
    assert _problems(cp, 1, chargingProfilePurpose="TxProfile", transactionId="T1") == ""
    assert "no active transaction" in _problems(cp, 2, chargingProfilePurpose="TxProfile", transactionId="T1")


def test_same_purpose_and_stack_level_conflict_unless_same_id(cp, bus):
    sc.charging_profile_set(charge_point=cp, evse_id=1, profile=profile(id=1))
    assert "already has purpose TxDefaultProfile" in _problems(cp, 1, id=2)
    assert _problems(cp, 1, id=1) == ""  # replaces itself
    assert _problems(cp, 1, id=2, stackLevel=1) == ""
    assert _problems(cp, 2, id=2) == ""  # another EVSE
    # Not overlapping in time: allowed.
    sc.charging_profile_set(
        charge_point=cp,
        evse_id=3,
        profile=profile(id=3, validFrom="2026-11-01T00:00:00Z", validTo="2026-11-02T00:00:00Z"),
    )
    assert _problems(cp, 3, id=4, validFrom="2026-11-02T00:00:00Z") == ""


def test_set_stores_on_accepted_only(cp, bus):
    p = profile(id=7)
    outcome = sc.charging_profile_set(charge_point=cp, evse_id=0, profile=p)
    assert outcome.ok and bus.sent[0] == {"action": "SetChargingProfile", "evseId": 0, "chargingProfile": p}
    row = ChargingProfile.objects.get(charge_point=cp, profile_id=7)
    assert (row.status, row.source, row.purpose, row.charging_rate_unit) == (
        "accepted",
        "operator",
        "TxDefaultProfile",
        "A",
    )
    # A refused replacement leaves the installed profile as it was.
    bus.answers.append({"status": "Rejected", "statusInfo": {"reasonCode": "InvalidSchedule"}})
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=7, stackLevel=4))
    row.refresh_from_db()
    assert (row.status, row.stack_level, row.status_info["reasonCode"]) == ("accepted", 0, "InvalidSchedule")
    # A refused new profile is kept as rejected, so the operator sees why.
    bus.answers.append("Rejected")
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=8, stackLevel=2))
    assert ChargingProfile.objects.get(profile_id=8).status == "rejected"
    # No answer: it may be installed.
    bus.answers.append("timeout")
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=9, stackLevel=3))
    assert ChargingProfile.objects.get(profile_id=9).status == "sent"


def test_invalid_profile_is_never_sent(cp, bus):
    with pytest.raises(ValidationError):
        sc.charging_profile_set(
            charge_point=cp, evse_id=1, profile=profile(chargingProfilePurpose="ChargingStationMaxProfile")
        )
    assert bus.sent == []


def test_simple_limit_builder_daily_window(cp):
    p = sc.charging_profile_build(
        charge_point=cp,
        purpose="ChargingStationMaxProfile",
        limit=32,
        unit="A",
        window_start=time(17),
        window_end=time(21),
        window_limit=10,
        now=NOW,
    )
    assert profile_problems(charge_point=cp, evse_id=0, profile=p) == []
    schedule = p["chargingSchedule"][0]
    assert (p["chargingProfileKind"], p["recurrencyKind"], schedule["duration"]) == ("Recurring", "Daily", 86400)
    assert [(x["startPeriod"], x["limit"]) for x in schedule["chargingSchedulePeriod"]] == [
        (0, 32.0),
        (61200, 10.0),
        (75600, 32.0),
    ]
    over_midnight = sc.charging_profile_build(
        charge_point=cp,
        purpose="TxDefaultProfile",
        limit=11000,
        unit="W",
        window_start=time(22),
        window_end=time(6),
        window_limit=3000,
        now=NOW,
    )
    periods = over_midnight["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert [(x["startPeriod"], x["limit"]) for x in periods] == [(0, 3000.0), (21600, 11000.0), (79200, 3000.0)]
    flat = sc.charging_profile_build(charge_point=cp, purpose="ChargingStationMaxProfile", limit=20, now=NOW)
    assert (
        flat["chargingProfileKind"] == "Absolute"
        and flat["chargingSchedule"][0]["startSchedule"] == "2026-11-25T10:00:00Z"
    )


def test_clear_by_id_and_by_criteria(cp, bus):
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=1))
    sc.charging_profile_set(charge_point=cp, evse_id=1, profile=profile(id=2, stackLevel=1))
    sc.charging_profile_clear(charge_point=cp, profile_id=1)
    assert bus.sent[-1] == {"action": "ClearChargingProfile", "chargingProfileId": 1}
    assert ChargingProfile.objects.get(profile_id=1).status == "cleared"
    bus.answers.append("Unknown")
    sc.charging_profile_clear(charge_point=cp, evse_id=1, purpose="TxDefaultProfile")
    assert ChargingProfile.objects.get(profile_id=2).status == "accepted"
    sc.charging_profile_clear(charge_point=cp, evse_id=1, purpose="TxDefaultProfile")
    assert bus.sent[-1]["chargingProfileCriteria"] == {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"}
    assert ChargingProfile.objects.get(profile_id=2).status == "cleared"


def test_report_multi_part_is_the_stations_view(cp, bus):
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=1))
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=2, stackLevel=5))  # lost by the charger
    outcome = sc.charging_profiles_request(charge_point=cp)
    assert outcome.ok and bus.sent[-1] == {"action": "GetChargingProfiles", "requestId": 1, "chargingProfile": {}}
    report = ChargingProfileReport.objects.get(charge_point=cp)
    assert report.status == "requested"
    sc.charging_profiles_report_record(
        charge_point_id=cp.pk, request_id=1, charging_limit_source="CSO", evse_id=0, profiles=[profile(id=1)], tbc=True
    )
    report.refresh_from_db()
    assert (report.status, report.parts) == ("receiving", 1)
    ems = profile(id=-3, chargingProfilePurpose="ChargingStationExternalConstraints", stackLevel=0)
    sc.charging_profiles_report_record(
        charge_point_id=cp.pk, request_id=1, charging_limit_source="EMS", evse_id=0, profiles=[ems], tbc=False
    )
    report.refresh_from_db()
    assert (report.status, report.parts, report.profiles) == ("complete", 2, 2)
    rows = {p.profile_id: p for p in ChargingProfile.objects.filter(charge_point=cp)}
    assert (rows[1].status, rows[1].source, rows[1].charging_limit_source) == ("accepted", "operator", "CSO")
    assert (rows[-3].source, rows[-3].status) == ("external", "accepted")
    # A complete, unfiltered report without profile 2: the charger no longer has it.
    assert rows[2].status == "cleared"


def test_report_no_profiles_clears_everything_known(cp, bus):
    sc.charging_profile_set(charge_point=cp, evse_id=0, profile=profile(id=1))
    bus.answers.append("NoProfiles")
    sc.charging_profiles_request(charge_point=cp)
    assert ChargingProfileReport.objects.get(charge_point=cp).status == "no_profiles"
    assert ChargingProfile.objects.get(profile_id=1).status == "cleared"


def test_v16_through_the_same_model(in_tenant_a, bus):
    cp16 = ChargePointFactory(identity="SC-16", online=True)
    p = sc.charging_profile_build(charge_point=cp16, purpose="ChargingStationMaxProfile", limit=16, now=NOW)
    sc.charging_profile_set(charge_point=cp16, evse_id=0, profile=p)
    sent = bus.sent[-1]
    assert sent["connectorId"] == 0 and sent["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert "id" not in sent["csChargingProfiles"]["chargingSchedule"]
    assert ChargingProfile.objects.get(charge_point=cp16).status == "accepted"
    bus.answers.append(
        {
            "status": "Accepted",
            "connectorId": 0,
            "scheduleStart": "2026-11-25T10:00:00Z",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]},
        }
    )
    sc.composite_schedule_request(charge_point=cp16, evse_id=0, duration=3600)
    cs = CompositeSchedule.objects.get(charge_point=cp16)
    assert cs.schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16}] and cs.charging_rate_unit == "A"
    with pytest.raises(ValidationError):
        sc.charging_profiles_request(charge_point=cp16)


def test_composite_chart_geometry():
    chart = sc.composite_chart(
        {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": "2026-11-25T10:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}, {"startPeriod": 1800, "limit": 5500}],
        }
    )
    assert chart["top"] == 11000 and len(chart["bars"]) == 2
    assert chart["bars"][0]["x"] == 0 and chart["bars"][1]["x"] == 300.0
    assert chart["bars"][1]["h"] == pytest.approx(chart["bars"][0]["h"] / 2, abs=0.2)
    assert sc.composite_chart(None) is None
