"""The OCPP 2.0.1 rules a charging profile must meet before EVzone sends it (use case
K01, SetChargingProfile). The JSON schema catches types and enumerations; these are
the rules it cannot express. A station would answer Rejected to most of them; catching
them here tells the operator why, in words, before anything is sent."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from apps.chargers.models import ChargePoint
from apps.charging.models import Transaction
from apps.smartcharging.models import ChargingProfile

STATION_MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
EXTERNAL = "ChargingStationExternalConstraints"


def parse_ts(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError(f"{value!r} is not a date-time with a time zone.")
    return parsed


def _overlap(a_from, a_to, b_from, b_to) -> bool:
    return (a_to is None or b_from is None or b_from < a_to) and (b_to is None or a_from is None or a_from < b_to)


def profile_problems(*, charge_point: ChargePoint, evse_id: int, profile: dict) -> list[str]:
    """Everything wrong with `profile` (camelCase, as sent) for `evse_id`; empty when fine."""

    problems: list[str] = []
    purpose = profile.get("chargingProfilePurpose")
    kind = profile.get("chargingProfileKind")
    if evse_id < 0:
        problems.append("evseId must be 0 or more.")
    if purpose == EXTERNAL:
        # K01.FR.22: only an external system (EMS) sets these, through the station.
        problems.append("ChargingStationExternalConstraints profiles are set by an external system, never by the CSMS.")
    if purpose == STATION_MAX:
        if evse_id != 0:  # K01.FR.03
            problems.append("A ChargingStationMaxProfile applies to the whole station: evseId must be 0.")
        if kind == "Relative":  # K01.FR.38
            problems.append("A ChargingStationMaxProfile cannot be Relative.")
    if purpose == TX:
        tx_id = profile.get("transactionId")
        if evse_id <= 0:  # K01.FR.16
            problems.append("A TxProfile applies to one EVSE: evseId must be above 0.")
        if not tx_id:  # K01.FR.03
            problems.append("A TxProfile needs the transactionId of the transaction it limits.")
        elif not Transaction.objects.filter(
            charge_point=charge_point, transaction_id=str(tx_id), status=Transaction.Status.ACTIVE, evse_id=evse_id
        ).exists():  # K01.FR.09 / K01.FR.33
            problems.append(f"There is no active transaction {tx_id} on EVSE {evse_id}.")
    elif profile.get("transactionId"):
        problems.append("Only a TxProfile carries a transactionId.")
    if kind == "Recurring" and not profile.get("recurrencyKind"):
        problems.append("A Recurring profile needs a recurrencyKind (Daily or Weekly).")
    if kind != "Recurring" and profile.get("recurrencyKind"):
        problems.append("recurrencyKind is only for Recurring profiles.")
    try:
        valid_from, valid_to = parse_ts(profile.get("validFrom")), parse_ts(profile.get("validTo"))
    except ValidationError as exc:
        problems.extend(exc.messages)
        valid_from = valid_to = None
    if valid_from and valid_to and valid_to <= valid_from:
        problems.append("validTo must be after validFrom.")

    schedules = profile.get("chargingSchedule") or []
    if not schedules:
        problems.append("A profile needs a chargingSchedule.")
    for n, schedule in enumerate(schedules, 1):
        label = f"Schedule {n}" if len(schedules) > 1 else "The schedule"
        has_start = bool(schedule.get("startSchedule"))
        if kind in ("Absolute", "Recurring") and not has_start:  # K01.FR.40
            problems.append(f"{label}: an {kind} profile needs a startSchedule.")
        if kind == "Relative" and has_start:  # K01.FR.41
            problems.append(f"{label}: a Relative profile has no startSchedule.")
        periods = schedule.get("chargingSchedulePeriod") or []
        if not periods:
            problems.append(f"{label} has no periods.")
            continue
        if periods[0].get("startPeriod") != 0:  # K01.FR.31
            problems.append(f"{label}: the first period must start at 0.")
        starts = [p.get("startPeriod", 0) for p in periods]
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):  # K01.FR.35
            problems.append(f"{label}: periods must be in increasing order of startPeriod.")
        duration = schedule.get("duration")
        if duration is not None and (duration <= 0 or starts[-1] >= duration):
            problems.append(f"{label}: every period must start within the schedule's duration.")
        for p in periods:
            limit = p.get("limit")
            if limit is not None and (limit < 0 or round(limit * 10) != limit * 10):
                problems.append(f"{label}: limit {limit} must be 0 or more with at most one decimal.")
            phases = p.get("numberPhases")
            if phases is not None and not 1 <= phases <= 3:
                problems.append(f"{label}: numberPhases must be 1, 2 or 3.")
            if p.get("phaseToUse") is not None:
                # K01.FR.19 / K01.FR.20: only for single-phase charging on a phase-switching EVSE.
                if phases != 1:
                    problems.append(f"{label}: phaseToUse is only allowed with numberPhases 1.")
                elif not 1 <= p["phaseToUse"] <= 3:
                    problems.append(f"{label}: phaseToUse must be 1, 2 or 3.")

    # K01.FR.06 / K01.FR.39: two profiles with the same purpose and stack level must not
    # be valid at the same time on the same EVSE (for TxProfiles: the same transaction).
    if purpose and not problems:
        others = ChargingProfile.objects.filter(
            charge_point=charge_point,
            evse_id=evse_id,
            purpose=purpose,
            stack_level=profile.get("stackLevel", 0),
            status__in=[ChargingProfile.Status.ACCEPTED, ChargingProfile.Status.SENT],
        ).exclude(profile_id=profile.get("id"))
        if purpose == TX:
            others = others.filter(Q(transaction_id=str(profile.get("transactionId"))))
        for other in others:
            if _overlap(valid_from, valid_to, other.valid_from, other.valid_to):
                problems.append(
                    f"Profile {other.profile_id} already has purpose {purpose} at stack level "
                    f"{other.stack_level} on EVSE {evse_id}; use another stack level or replace that profile."
                )
    return problems


def charging_profile_validate(*, charge_point: ChargePoint, evse_id: int, profile: dict) -> None:
    problems = profile_problems(charge_point=charge_point, evse_id=evse_id, profile=profile)
    if problems:
        raise ValidationError(problems)
