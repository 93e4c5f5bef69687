"""Smart charging writes (OCPP block K): send profiles, record what chargers answer and report.

Two paths write the same facts and both are idempotent: the session's `answered_*`
hooks (apps/csms/handlers/v2/smartcharging.py) record every answer the charger gives,
whoever sent the command (portal, API console); the services below record the answer
they got back too, which also covers OCPP 1.6, whose session has no such hooks.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.chargers.models import ChargePoint, ProtocolVersion
from apps.core.timefmt import iso_utc
from apps.csms import commands
from apps.smartcharging.models import (
    ChargingLimit,
    ChargingProfile,
    ChargingProfileReport,
    CompositeSchedule,
    EVChargingNeeds,
)
from apps.smartcharging.validation import EXTERNAL, STATION_MAX, charging_profile_validate, parse_ts

# Fields of a 2.0.1 ChargingProfileType; anything else a profile carries is a 2.1 addition.
PROFILE_201 = {
    "customData",
    "id",
    "stackLevel",
    "chargingProfilePurpose",
    "chargingProfileKind",
    "recurrencyKind",
    "validFrom",
    "validTo",
    "chargingSchedule",
    "transactionId",
}
# ReportChargingProfiles sources: what the station installed on its own or for an EMS.
LIMIT_SOURCE_TO_SOURCE = {"CSO": ChargingProfile.Source.OPERATOR}


def is_v16(charge_point: ChargePoint) -> bool:
    return charge_point.protocol_version == ProtocolVersion.OCPP16


@dataclass
class CommandOutcome:
    """What the portal tells the operator after a command."""

    status: str  # ok | error | timeout | offline | invalid
    answer: str = ""  # the charger's status field
    message: str = ""
    response: dict | None = None
    command: object = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.answer in ("Accepted", "")


def _send(*, charge_point, action, payload, user, timeout, source="smart-charging") -> CommandOutcome:
    # Looked up at call time: tests replace apps.csms.commands.command_send with a fake charger.

    try:
        result = commands.command_send(
            charge_point=charge_point, action=action, payload=payload, user=user, timeout=timeout, source=source
        )
    except commands.InvalidCommand as exc:
        return CommandOutcome(status="invalid", message=str(exc))
    response = result.response if result.status == "ok" else None
    message = ""
    if result.status == "error":
        message = f"{result.error.get('code', '')}: {result.error.get('description', '')}"
    elif result.status in ("offline", "timeout"):
        message = {"offline": "The charger is not connected.", "timeout": "No answer in time."}[result.status]
    return CommandOutcome(
        status=result.status,
        answer=(response or {}).get("status", ""),
        message=message,
        response=response,
        command=result.command,
    )


# --------------------------------------------------------------------------- profiles


def charging_profile_next_id(*, charge_point: ChargePoint) -> int:
    top = ChargingProfile.objects.filter(charge_point=charge_point).aggregate(m=Max("profile_id"))["m"]
    return max(top or 0, 0) + 1


def _local_midnight(charge_point: ChargePoint, now: datetime) -> datetime:
    tz_name = charge_point.location.time_zone if charge_point.location_id else "UTC"
    tz = zoneinfo.ZoneInfo(tz_name)
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60


def charging_profile_build(
    *,
    charge_point: ChargePoint,
    purpose: str,
    limit: float,
    unit: str = "A",
    evse_id: int = 0,
    stack_level: int = 0,
    number_phases: int | None = None,
    window_start: time | None = None,
    window_end: time | None = None,
    window_limit: float | None = None,
    profile_id: int | None = None,
    now: datetime | None = None,
) -> dict:
    """A ChargingStationMaxProfile or TxDefaultProfile from the portal's simple form: one
    limit, optionally another limit every day between two local times (a Recurring Daily
    profile starting at the site's midnight)."""
    now = now or timezone.now()

    def period(start: int, value: float) -> dict:
        p = {"startPeriod": start, "limit": round(float(value), 1)}
        if number_phases:
            p["numberPhases"] = number_phases
        return p

    schedule: dict = {"id": 1, "chargingRateUnit": unit}
    profile: dict = {
        "id": profile_id or charging_profile_next_id(charge_point=charge_point),
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
    }
    if window_start is not None and window_end is not None and window_limit is not None:
        start, end = _seconds(window_start), _seconds(window_end)
        if start == end:
            raise ValidationError("The daily window must not start and end at the same time.")
        if start < end:
            points = [(0, limit), (start, window_limit), (end, limit)]
        else:  # the window runs over midnight
            points = [(0, window_limit), (end, limit), (start, window_limit)]
        periods, seen = [], set()
        for at, value in points:
            if at in seen or at >= 86400:
                continue
            if periods and at == 0:
                continue
            seen.add(at)
            periods.append(period(at, value))
        # A window starting at midnight replaces the first period.
        periods = sorted({p["startPeriod"]: p for p in periods}.values(), key=lambda p: p["startPeriod"])
        if periods[0]["startPeriod"] != 0:
            periods.insert(0, period(0, limit))
        profile.update(chargingProfileKind="Recurring", recurrencyKind="Daily")
        schedule.update(startSchedule=iso_utc(_local_midnight(charge_point, now)), duration=86400)
        schedule["chargingSchedulePeriod"] = periods
    else:
        profile["chargingProfileKind"] = "Absolute"
        schedule["startSchedule"] = iso_utc(now.replace(microsecond=0))
        schedule["chargingSchedulePeriod"] = [period(0, limit)]
    profile["chargingSchedule"] = [schedule]
    return profile


def profile_to_v16(*, evse_id: int, profile: dict) -> dict:
    """A 2.x ChargingProfile as 1.6 SetChargingProfile payload (one schedule; the station
    maximum is called ChargePointMaxProfile there)."""
    schedule = dict(profile["chargingSchedule"][0])
    schedule.pop("id", None)
    schedule.pop("salesTariff", None)
    schedule["chargingSchedulePeriod"] = [
        {k: v for k, v in p.items() if k in ("startPeriod", "limit", "numberPhases")}
        for p in schedule["chargingSchedulePeriod"]
    ]
    purpose = profile["chargingProfilePurpose"]
    cs = {
        "chargingProfileId": profile["id"],
        "stackLevel": profile["stackLevel"],
        "chargingProfilePurpose": "ChargePointMaxProfile" if purpose == STATION_MAX else purpose,
        "chargingProfileKind": profile["chargingProfileKind"],
        "chargingSchedule": {
            k: v
            for k, v in schedule.items()
            if k in ("duration", "startSchedule", "chargingRateUnit", "chargingSchedulePeriod", "minChargingRate")
        },
    }
    for key in ("recurrencyKind", "validFrom", "validTo"):
        if profile.get(key):
            cs[key] = profile[key]
    if profile.get("transactionId"):
        cs["transactionId"] = int(profile["transactionId"])
    return {"connectorId": evse_id, "csChargingProfiles": cs}


def _profile_fields(*, evse_id: int, profile: dict) -> dict:
    schedules = profile.get("chargingSchedule") or []
    return {
        "evse_id": evse_id,
        "stack_level": profile.get("stackLevel", 0),
        "purpose": profile.get("chargingProfilePurpose", ""),
        "kind": profile.get("chargingProfileKind", ""),
        "recurrency_kind": profile.get("recurrencyKind") or "",
        "valid_from": parse_ts(profile.get("validFrom")),
        "valid_to": parse_ts(profile.get("validTo")),
        "transaction_id": str(profile.get("transactionId") or ""),
        "charging_rate_unit": (schedules[0].get("chargingRateUnit") if schedules else "") or "",
        "schedules": schedules,
        "profile": profile,
        "extra": {k: v for k, v in profile.items() if k not in PROFILE_201},
    }


@transaction.atomic
def charging_profile_answer_record(
    *,
    charge_point_id: int,
    evse_id: int,
    profile: dict,
    status: str,
    status_info: dict | None = None,
    protocol: str = "",
    user=None,
) -> ChargingProfile | None:
    """The charger answered SetChargingProfile (status Accepted / Rejected, or "sent" when
    the outcome is unknown). An accepted profile replaces the charger's profile with the
    same id (K01.FR.05); a refused one never overwrites what the charger still has."""
    existing = ChargingProfile.objects.select_for_update().filter(
        charge_point_id=charge_point_id, profile_id=profile["id"]
    )
    row = existing.first()
    now = timezone.now()
    if status == "Accepted":
        fields = _profile_fields(evse_id=evse_id, profile=profile)
        fields.update(
            status=ChargingProfile.Status.ACCEPTED,
            source=ChargingProfile.Source.OPERATOR,
            status_info=status_info,
            protocol=protocol,
            cleared_at=None,
            updated_at=now,
        )
        if row is None:
            return ChargingProfile.objects.create(
                charge_point_id=charge_point_id, profile_id=profile["id"], created_by=user, **fields
            )
        if user is not None:
            fields["created_by"] = user
        existing.update(**fields)
        row.refresh_from_db()
        return row
    new_status = ChargingProfile.Status.REJECTED if status == "Rejected" else ChargingProfile.Status.SENT
    if row is None or row.status in (ChargingProfile.Status.REJECTED, ChargingProfile.Status.CLEARED):
        fields = _profile_fields(evse_id=evse_id, profile=profile)
        fields.update(
            status=new_status,
            source=ChargingProfile.Source.OPERATOR,
            status_info=status_info,
            protocol=protocol,
            updated_at=now,
        )
        if row is None:
            return ChargingProfile.objects.create(
                charge_point_id=charge_point_id, profile_id=profile["id"], created_by=user, **fields
            )
        existing.update(**fields)
        row.refresh_from_db()
        return row
    # The charger keeps the profile it had under that id.
    existing.update(status_info=status_info, updated_at=now)
    return row


def charging_profile_set(
    *, charge_point: ChargePoint, evse_id: int, profile: dict, user=None, timeout: float = 30
) -> CommandOutcome:
    """Validate (K01), send SetChargingProfile, record the answer."""
    charging_profile_validate(charge_point=charge_point, evse_id=evse_id, profile=profile)
    if is_v16(charge_point):
        payload = profile_to_v16(evse_id=evse_id, profile=profile)
    else:
        payload = {"evseId": evse_id, "chargingProfile": profile}
    outcome = _send(charge_point=charge_point, action="SetChargingProfile", payload=payload, user=user, timeout=timeout)
    if outcome.status == "ok":
        charging_profile_answer_record(
            charge_point_id=charge_point.pk,
            evse_id=evse_id,
            profile=profile,
            status=outcome.answer,
            status_info=(outcome.response or {}).get("statusInfo"),
            protocol=charge_point.protocol_version,
            user=user,
        )
    elif outcome.status == "timeout":
        # It may have installed it: show it as sent until a report tells.
        charging_profile_answer_record(
            charge_point_id=charge_point.pk,
            evse_id=evse_id,
            profile=profile,
            status="sent",
            protocol=charge_point.protocol_version,
            user=user,
        )
    return outcome


@transaction.atomic
def charging_profiles_cleared_record(
    *,
    charge_point_id: int,
    profile_id: int | None = None,
    evse_id: int | None = None,
    purpose: str | None = None,
    stack_level: int | None = None,
) -> int:
    """The charger accepted ClearChargingProfile: by id, or every profile matching the criteria."""
    qs = ChargingProfile.objects.filter(charge_point_id=charge_point_id).exclude(status=ChargingProfile.Status.CLEARED)
    if profile_id is not None:
        qs = qs.filter(profile_id=profile_id)
    else:
        if evse_id is not None:
            qs = qs.filter(evse_id=evse_id)
        if purpose:
            qs = qs.filter(purpose__in=[purpose, "ChargePointMaxProfile"] if purpose == STATION_MAX else [purpose])
        elif evse_id is None and stack_level is None:
            # An empty criterion clears everything the CSMS may clear, not an EMS's limits.
            qs = qs.exclude(purpose=EXTERNAL)
        if stack_level is not None:
            qs = qs.filter(stack_level=stack_level)
    return qs.update(status=ChargingProfile.Status.CLEARED, cleared_at=timezone.now())


def charging_profile_clear(
    *,
    charge_point: ChargePoint,
    profile_id: int | None = None,
    evse_id: int | None = None,
    purpose: str | None = None,
    stack_level: int | None = None,
    user=None,
    timeout: float = 30,
) -> CommandOutcome:
    if is_v16(charge_point):
        payload = {}
        if profile_id is not None:
            payload["id"] = profile_id
        if evse_id is not None:
            payload["connectorId"] = evse_id
        if purpose:
            payload["chargingProfilePurpose"] = "ChargePointMaxProfile" if purpose == STATION_MAX else purpose
        if stack_level is not None:
            payload["stackLevel"] = stack_level
    else:
        payload = {}
        if profile_id is not None:
            payload["chargingProfileId"] = profile_id
        criteria = {
            k: v
            for k, v in (("evseId", evse_id), ("chargingProfilePurpose", purpose), ("stackLevel", stack_level))
            if v not in (None, "")
        }
        if criteria:
            payload["chargingProfileCriteria"] = criteria
    outcome = _send(
        charge_point=charge_point, action="ClearChargingProfile", payload=payload, user=user, timeout=timeout
    )
    if outcome.status == "ok" and outcome.answer == "Accepted":
        charging_profiles_cleared_record(
            charge_point_id=charge_point.pk,
            profile_id=profile_id,
            evse_id=evse_id,
            purpose=purpose,
            stack_level=stack_level,
        )
    return outcome


# --------------------------------------------------------------------------- reports (K09)


def _next_report_id(charge_point_id: int) -> int:
    top = ChargingProfileReport.objects.filter(charge_point_id=charge_point_id).aggregate(m=Max("request_id"))["m"]
    return (top or 0) + 1


@transaction.atomic
def charging_profile_report_answer_record(
    *, charge_point_id: int, request_id: int, evse_id: int | None, criterion: dict, status: str
) -> ChargingProfileReport:
    """The charger answered GetChargingProfiles: Accepted (reports follow) or NoProfiles."""
    report, _ = ChargingProfileReport.objects.select_for_update().get_or_create(
        charge_point_id=charge_point_id,
        request_id=request_id,
        defaults={"evse_id": evse_id, "criterion": criterion},
    )
    if status == "NoProfiles":
        report.status = ChargingProfileReport.Status.NO_PROFILES
        report.completed_at = timezone.now()
        report.save(update_fields=["status", "completed_at"])
        _forget_unreported(report)
    return report


def _unfiltered(report: ChargingProfileReport) -> bool:
    criterion = {k: v for k, v in (report.criterion or {}).items() if k != "customData"}
    return report.evse_id is None and not criterion


def _forget_unreported(report: ChargingProfileReport) -> None:
    """After a complete unfiltered report, an installed profile the charger did not list is
    gone (a reboot, a local reset): mark it cleared."""
    if not _unfiltered(report):
        return
    ChargingProfile.objects.filter(
        charge_point_id=report.charge_point_id, status=ChargingProfile.Status.ACCEPTED
    ).exclude(reported_at__gte=report.requested_at).update(
        status=ChargingProfile.Status.CLEARED, cleared_at=timezone.now()
    )


def charging_profiles_request(
    *, charge_point: ChargePoint, evse_id: int | None = None, criterion: dict | None = None, user=None, timeout=30
) -> CommandOutcome:
    """Ask the charger for its installed profiles (GetChargingProfiles, 2.x only); they
    arrive in ReportChargingProfiles messages."""
    if is_v16(charge_point):
        raise ValidationError("OCPP 1.6 chargers cannot report their charging profiles.")
    criterion = criterion or {}
    with transaction.atomic():
        ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).first()
        report = ChargingProfileReport.objects.create(
            charge_point=charge_point,
            request_id=_next_report_id(charge_point.pk),
            evse_id=evse_id,
            criterion=criterion,
        )
    payload = {"requestId": report.request_id, "chargingProfile": criterion}
    if evse_id is not None:
        payload["evseId"] = evse_id
    outcome = _send(
        charge_point=charge_point, action="GetChargingProfiles", payload=payload, user=user, timeout=timeout
    )
    if outcome.status == "ok":
        charging_profile_report_answer_record(
            charge_point_id=charge_point.pk,
            request_id=report.request_id,
            evse_id=evse_id,
            criterion=criterion,
            status=outcome.answer,
        )
    else:
        ChargingProfileReport.objects.filter(pk=report.pk, status=ChargingProfileReport.Status.REQUESTED).update(
            status=ChargingProfileReport.Status.FAILED
        )
    return outcome


@transaction.atomic
def charging_profiles_report_record(
    *,
    charge_point_id: int,
    request_id: int,
    charging_limit_source: str,
    evse_id: int,
    profiles: list[dict],
    tbc: bool = False,
) -> ChargingProfileReport:
    """One ReportChargingProfiles part: the charger's view of its profiles (camelCase).
    Profiles an EMS installed (ChargingStationExternalConstraints, source EMS/SO) are kept
    as external; ones the charger reports that EVzone did not set are the station's."""
    now = timezone.now()
    report, _ = ChargingProfileReport.objects.select_for_update().get_or_create(
        charge_point_id=charge_point_id,
        request_id=request_id,
        # A report nobody here asked for (another system's request): its criteria are
        # unknown, so it never marks unlisted profiles as gone.
        defaults={"requested_at": now, "criterion": {"unknownRequest": True}},
    )
    for profile in profiles:
        fields = _profile_fields(evse_id=evse_id, profile=profile)
        fields.update(
            status=ChargingProfile.Status.ACCEPTED,
            charging_limit_source=charging_limit_source,
            reported_at=now,
            cleared_at=None,
        )
        row = ChargingProfile.objects.select_for_update().filter(
            charge_point_id=charge_point_id, profile_id=profile["id"]
        )
        current = row.first()
        if current is None:
            external = charging_limit_source in ("EMS", "SO") or fields["purpose"] == EXTERNAL
            source = ChargingProfile.Source.EXTERNAL if external else ChargingProfile.Source.STATION
            ChargingProfile.objects.create(
                charge_point_id=charge_point_id, profile_id=profile["id"], source=source, **fields
            )
        else:
            row.update(**fields)
    report.parts += 1
    report.profiles += len(profiles)
    report.status = ChargingProfileReport.Status.RECEIVING if tbc else ChargingProfileReport.Status.COMPLETE
    if not tbc:
        report.completed_at = now
    report.save()
    if not tbc:
        _forget_unreported(report)
    return report


# --------------------------------------------------------------------------- composite schedule (K08)


def composite_schedule_record(
    *,
    charge_point_id: int,
    evse_id: int,
    duration: int,
    charging_rate_unit: str = "",
    status: str,
    schedule: dict | None = None,
    status_info: dict | None = None,
) -> CompositeSchedule:
    if schedule and not charging_rate_unit:
        charging_rate_unit = schedule.get("chargingRateUnit", "")
    return CompositeSchedule.objects.create(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        duration=duration,
        charging_rate_unit=charging_rate_unit or "",
        status=status,
        schedule=schedule,
        status_info=status_info,
    )


def composite_schedule_request(
    *, charge_point: ChargePoint, evse_id: int, duration: int, unit: str = "", user=None, timeout: float = 30
) -> CommandOutcome:
    """GetCompositeSchedule; the answer ends up in CompositeSchedule whatever the version."""
    if is_v16(charge_point):
        payload = {"connectorId": evse_id, "duration": duration}
    else:
        payload = {"evseId": evse_id, "duration": duration}
    if unit:
        payload["chargingRateUnit"] = unit
    outcome = _send(
        charge_point=charge_point, action="GetCompositeSchedule", payload=payload, user=user, timeout=timeout
    )
    # 2.x answers are stored by the session's answered_get_composite_schedule hook (in the
    # process holding the socket); 1.6 sessions have no such hook, so this stores theirs.
    if outcome.status == "ok" and is_v16(charge_point):
        answer = outcome.response or {}
        schedule = None
        if answer.get("chargingSchedule"):
            # 1.6 answers {connectorId, scheduleStart, chargingSchedule}: shaped like 2.x here.
            cs = answer["chargingSchedule"]
            schedule = {
                "evseId": answer.get("connectorId", evse_id),
                "duration": cs.get("duration", duration),
                "scheduleStart": answer.get("scheduleStart") or cs.get("startSchedule"),
                "chargingRateUnit": cs.get("chargingRateUnit", unit),
                "chargingSchedulePeriod": cs.get("chargingSchedulePeriod", []),
            }
        composite_schedule_record(
            charge_point_id=charge_point.pk,
            evse_id=evse_id,
            duration=duration,
            charging_rate_unit=unit,
            status=outcome.answer,
            schedule=schedule,
            status_info=answer.get("statusInfo"),
        )
    return outcome


# --------------------------------------------------------------------------- station notifications


def charging_limit_record(
    *,
    charge_point_id: int,
    source: str,
    is_grid_critical: bool | None = None,
    evse_id: int | None = None,
    schedules: list | None = None,
    extra: dict | None = None,
) -> ChargingLimit:
    """NotifyChargingLimit (K12): an external system limits the station."""
    return ChargingLimit.objects.create(
        charge_point_id=charge_point_id,
        source=source,
        is_grid_critical=is_grid_critical,
        evse_id=evse_id,
        schedules=schedules or [],
        extra=extra or {},
    )


@transaction.atomic
def charging_limit_cleared_record(*, charge_point_id: int, source: str, evse_id: int | None = None) -> int:
    """ClearedChargingLimit (K13): the limits of that source (on that EVSE) are gone, and
    so are the external-constraint profiles it had installed."""
    now = timezone.now()
    limits = ChargingLimit.objects.filter(charge_point_id=charge_point_id, source=source, cleared_at__isnull=True)
    profiles = ChargingProfile.objects.filter(
        charge_point_id=charge_point_id, purpose=EXTERNAL, charging_limit_source=source
    ).exclude(status=ChargingProfile.Status.CLEARED)
    if evse_id is not None:
        limits = limits.filter(evse_id=evse_id)
        profiles = profiles.filter(evse_id=evse_id)
    profiles.update(status=ChargingProfile.Status.CLEARED, cleared_at=now)
    return limits.update(cleared_at=now)


def ev_charging_needs_record(
    *, charge_point_id: int, evse_id: int, needs: dict, max_schedule_tuples: int | None = None, answer: str = ""
) -> EVChargingNeeds:
    return EVChargingNeeds.objects.create(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        kind=EVChargingNeeds.Kind.NEEDS,
        requested_energy_transfer=needs.get("requestedEnergyTransfer", "")[:30],
        departure_time=parse_ts(needs.get("departureTime")),
        max_schedule_tuples=max_schedule_tuples,
        data=needs,
        answer=answer,
    )


def ev_charging_schedule_record(
    *, charge_point_id: int, evse_id: int, time_base: str, schedule: dict, extra: dict | None = None, answer: str = ""
) -> EVChargingNeeds:
    return EVChargingNeeds.objects.create(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        kind=EVChargingNeeds.Kind.SCHEDULE,
        time_base=parse_ts(time_base),
        data={"chargingSchedule": schedule, **(extra or {})},
        answer=answer,
    )


SCHEDULE_UPDATE_KEYS = (
    "limit",
    "limit_L2",
    "limit_L3",
    "dischargeLimit",
    "dischargeLimit_L2",
    "dischargeLimit_L3",
    "setpoint",
    "setpoint_L2",
    "setpoint_L3",
    "setpointReactive",
    "setpointReactive_L2",
    "setpointReactive_L3",
)


def dynamic_schedule_update_for(*, charge_point_id: int, profile_id: int, now: datetime | None = None) -> dict | None:
    """The scheduleUpdate for PullDynamicScheduleUpdate (2.1 K??): the values an integration
    put in the profile's extra["scheduleUpdate"], else those of the period in force now of
    an installed Dynamic profile; None when EVzone has nothing for that profile."""
    profile = ChargingProfile.objects.filter(
        charge_point_id=charge_point_id, profile_id=profile_id, status=ChargingProfile.Status.ACCEPTED
    ).first()
    if profile is None:
        return None
    update = (profile.extra or {}).get("scheduleUpdate")
    if update:
        return {k: v for k, v in update.items() if k in SCHEDULE_UPDATE_KEYS}
    if profile.kind != "Dynamic" or not profile.periods:
        return None
    now = now or timezone.now()
    start = parse_ts((profile.schedules[0] or {}).get("startSchedule")) or profile.updated_at
    elapsed = (now - start).total_seconds()
    current = profile.periods[0]
    for period in profile.periods:
        if period.get("startPeriod", 0) <= elapsed:
            current = period
    values = {k: current[k] for k in SCHEDULE_UPDATE_KEYS if k in current}
    return values or None


def composite_chart(schedule: dict | None, width: int = 600, height: int = 160) -> dict | None:
    """Step-chart geometry for a composite schedule (the page draws it as inline SVG)."""
    if not schedule or not schedule.get("chargingSchedulePeriod"):
        return None
    duration = max(int(schedule.get("duration") or 0), 1)
    periods = sorted(schedule["chargingSchedulePeriod"], key=lambda p: p.get("startPeriod", 0))
    top = max((p.get("limit") or 0) for p in periods) or 1
    start = parse_ts(schedule.get("scheduleStart"))
    points, bars = [], []
    for i, p in enumerate(periods):
        begin = min(p.get("startPeriod", 0), duration)
        end = min(periods[i + 1]["startPeriod"], duration) if i + 1 < len(periods) else duration
        y = height - (p.get("limit") or 0) / top * (height - 10)
        x0, x1 = begin / duration * width, end / duration * width
        points += [f"{x0:.1f},{y:.1f}", f"{x1:.1f},{y:.1f}"]
        bars.append(
            {
                "x": round(x0, 1),
                "y": round(y, 1),
                "w": round(max(x1 - x0, 0.5), 1),
                "h": round(height - y, 1),
                "limit": p.get("limit"),
                "from": (start + timedelta(seconds=begin)) if start else begin,
                "to": (start + timedelta(seconds=end)) if start else end,
            }
        )
    return {
        "width": width,
        "height": height,
        "points": " ".join(points),
        "bars": bars,
        "top": top,
        "unit": schedule.get("chargingRateUnit", ""),
        "start": start,
        "end": (start + timedelta(seconds=duration)) if start else None,
    }
