"""OCPP 2.x wire shapes for charging's domain values (both directions).

The domain (apps.charging) speaks IdTokenInfo dataclasses and plain sampled-value rows;
these turn them into what a 2.0.1 / 2.1 station sends and expects."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ocpp.charge_point import snake_to_camel_case

from apps.charging.selectors import IdTokenInfo
from apps.charging.transaction_events import ENERGY, EventOutcome
from apps.core.timefmt import iso_utc

# groupIdToken.idToken is 36 characters in 2.0.1 (255 in 2.1; the shorter fits both).
MAX_GROUP_ID = 36


def id_token_info_v2(info: IdTokenInfo) -> dict:
    """IdTokenInfoType (camelCase) for Authorize and TransactionEvent answers."""
    result: dict = {"status": info.status}
    if info.expires_at is not None:
        result["cacheExpiryDateTime"] = iso_utc(info.expires_at)
    if info.group_id:
        result["groupIdToken"] = {"idToken": info.group_id[:MAX_GROUP_ID], "type": "Central"}
    return result


def transaction_event_answer(outcome: EventOutcome) -> dict:
    """TransactionEventResponse (camelCase keys pass the session's camelCasing unchanged)."""
    answer: dict = {}
    if outcome.info is not None:
        answer["idTokenInfo"] = id_token_info_v2(outcome.info)
    if outcome.total_cost is not None:
        answer["totalCost"] = float(outcome.total_cost)
    return answer


def sampled_values_v2(meter_values: list[dict]) -> list[dict]:
    """2.x MeterValueType (snake_case, timestamps parsed) -> the rows meter_values_record
    stores. unitOfMeasure.multiplier is applied (value x 10^multiplier) so every reader
    sees plain Wh / kWh / W / V; signedMeterValue is kept verbatim (camelCase)."""
    out = []
    for mv in meter_values:
        samples = []
        for sv in mv["sampled_value"]:
            unit = sv.get("unit_of_measure") or {}
            raw = _number(sv["value"], unit.get("multiplier", 0))
            signed = sv.get("signed_meter_value")
            samples.append(
                {
                    "value": raw,
                    "measurand": sv.get("measurand") or ENERGY,
                    "unit": unit.get("unit") or "Wh",
                    "context": sv.get("context") or "Sample.Periodic",
                    "location": sv.get("location") or "Outlet",
                    "phase": sv.get("phase") or "",
                    "format": "Raw",
                    "signed": snake_to_camel_case(signed) if signed else None,
                }
            )
        out.append({"timestamp": mv["timestamp"], "sampled_value": samples})
    return out


def _number(value, multiplier: int) -> str:
    try:
        number = Decimal(str(value))
        if multiplier:
            number = number.scaleb(int(multiplier))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return format(number, "f")
