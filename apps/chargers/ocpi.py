"""OCPI 2.2.1 vocabulary for locations, EVSEs and connectors, and validators for the
JSON-shaped location fields.

Pure functions without database access: the services call them before saving, so the
API, the portal, imports and the admin all get the same rules and messages. Each
validator returns the normalised value (upper-cased enums, duplicates removed) or
raises ValidationError with a message that names the offending item.
"""

import re
from datetime import datetime
from urllib.parse import urlparse

from babel.core import get_global
from django.core.exceptions import ValidationError

FACILITIES = (
    "HOTEL",
    "RESTAURANT",
    "CAFE",
    "MALL",
    "SUPERMARKET",
    "SPORT",
    "RECREATION_AREA",
    "NATURE",
    "MUSEUM",
    "BIKE_SHARING",
    "BUS_STOP",
    "TAXI_STAND",
    "TRAM_STOP",
    "METRO_STATION",
    "TRAIN_STATION",
    "AIRPORT",
    "PARKING_LOT",
    "CARPOOL_PARKING",
    "FUEL_STATION",
    "WIFI",
)
PARKING_TYPES = (
    "ALONG_MOTORWAY",
    "PARKING_GARAGE",
    "PARKING_LOT",
    "ON_DRIVEWAY",
    "ON_STREET",
    "UNDERGROUND_GARAGE",
)
CONNECTOR_TYPES = (
    "CHADEMO",
    "CHAOJI",
    *(f"DOMESTIC_{c}" for c in "ABCDEFGHIJKLMNO"),
    "GBT_AC",
    "GBT_DC",
    "IEC_60309_2_single_16",
    "IEC_60309_2_three_16",
    "IEC_60309_2_three_32",
    "IEC_60309_2_three_64",
    "IEC_62196_T1",
    "IEC_62196_T1_COMBO",
    "IEC_62196_T2",
    "IEC_62196_T2_COMBO",
    "IEC_62196_T3A",
    "IEC_62196_T3C",
    "NEMA_5_20",
    "NEMA_6_30",
    "NEMA_6_50",
    "NEMA_10_30",
    "NEMA_10_50",
    "NEMA_14_30",
    "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP",
    "PANTOGRAPH_TOP_DOWN",
    "TESLA_R",
    "TESLA_S",
)
# Plugs that can only carry one kind of current: a declaration that contradicts the
# plug is a typo in a spreadsheet far more often than exotic hardware.
DC_ONLY = {"CHADEMO", "CHAOJI", "GBT_DC", "IEC_62196_T1_COMBO", "IEC_62196_T2_COMBO"}
AC_ONLY = {"GBT_AC", "IEC_62196_T1", "IEC_62196_T2", "IEC_62196_T3A", "IEC_62196_T3C"} | {
    c for c in CONNECTOR_TYPES if c.startswith(("DOMESTIC_", "IEC_60309", "NEMA_"))
}
CONNECTOR_FORMATS = ("SOCKET", "CABLE")
POWER_TYPES = ("AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC")
IMAGE_CATEGORIES = ("CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER")
TOKEN_TYPES = ("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
ENERGY_SOURCES = ("NUCLEAR", "GENERAL_FOSSIL", "COAL", "GAS", "GENERAL_GREEN", "SOLAR", "WIND", "WATER")
ENVIRONMENTAL_IMPACTS = ("NUCLEAR_WASTE", "CARBON_DIOXIDE")


def choices(values) -> list[tuple[str, str]]:
    # Plug names (IEC_62196_T2) read best as written; words (PARKING_LOT) as words.
    return [(v, v if any(c.isdigit() for c in v) else v.replace("_", " ").capitalize()) for v in values]


# ----------------------------------------------------------------------------- countries

# CLDR (shipped with babel, already a dependency) lists each ISO 3166-1 alpha-3 code as
# an alias of its alpha-2 code. A few aliases are withdrawn codes that map to a current
# country (East Germany → DE); they must not win over the current alpha-3.
_WITHDRAWN_ALPHA3 = {"BUR", "ZAR", "DDR", "FXX", "TMP", "YMD", "AAA"}


def _alpha3_table() -> dict[str, str]:
    table = {}
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and alias not in _WITHDRAWN_ALPHA3:
            alpha2 = targets[0]
            # Q*, X* (except XK) and ZZ are private-use codes, not countries.
            if len(alpha2) == 2 and not (alpha2[0] == "Q" or (alpha2[0] == "X" and alpha2 != "XK") or alpha2 == "ZZ"):
                table.setdefault(alpha2, alias)
    return table


ALPHA3 = _alpha3_table()


def country_alpha3(alpha2: str) -> str:
    return ALPHA3.get((alpha2 or "").upper(), "")


def validate_country(value: str) -> None:
    if value not in ALPHA3:
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, NL, GB).")


# ----------------------------------------------------------------------------- helpers

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
# eMI3 EVSE ID: country, separator, 3-character operator id, separator, "E", outlet id.
# The separator is "*" or nothing, used consistently (eMI3 / OCPI EVSE.evse_id).
EMI3_EVSE_ID = re.compile(r"^[A-Z]{2}(\*?)[A-Z0-9]{3}\1E[A-Z0-9][A-Z0-9*]{0,30}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def enum_value(value, allowed, what: str) -> str:
    text = str(value or "").strip()
    # OCPI enums are upper-case except the IEC 60309 connector names; match case-insensitively.
    for option in allowed:
        if option.upper() == text.upper():
            return option
    if len(allowed) > 20:
        # Fifty plug names would drown the message (and a row of an import report).
        examples = [a for a in ("IEC_62196_T2", "IEC_62196_T2_COMBO", "CHADEMO", "DOMESTIC_F") if a in allowed]
        raise ValidationError(
            f"{what} {text!r} is not an OCPI 2.2.1 value (e.g. {', '.join(examples or allowed[:4])})."
        )
    raise ValidationError(f"{what} {text!r} is not one of: {', '.join(allowed)}.")


def _url(value, what: str, required: bool = True) -> str:
    text = str(value or "").strip()
    if not text and not required:
        return ""
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(text) > 255:
        raise ValidationError(f"{what} must be an http(s) URL of at most 255 characters, not {text!r}.")
    return text


def _list(value, what: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{what} must be a list.")
    return value


def _dict(item, what: str) -> dict:
    if not isinstance(item, dict):
        raise ValidationError(f"{what} must be an object, not {item!r}.")
    return item


def _unknown_keys(item: dict, allowed: set, what: str) -> None:
    extra = sorted(set(item) - allowed)
    if extra:
        raise ValidationError(f"{what}: unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}.")


def _datetime(value, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"{what} {value!r} is not an ISO 8601 date-time.") from exc
    if parsed.tzinfo is None:
        raise ValidationError(f"{what} {value!r} needs a time zone (e.g. 2026-12-24T14:00:00Z).")
    return parsed


# ----------------------------------------------------------------------------- location fields


def validate_facilities(value) -> list[str]:
    result = []
    for item in _list(value, "Facilities"):
        facility = enum_value(item, FACILITIES, "Facility")
        if facility not in result:
            result.append(facility)
    return result


def validate_opening_times(value) -> dict | None:
    """OCPI Hours. None means unknown (OCPI leaves opening_times out)."""
    if value in (None, "", {}):
        return None
    hours = _dict(value, "Opening times")
    _unknown_keys(
        hours, {"twentyfourseven", "regular_hours", "exceptional_openings", "exceptional_closings"}, "Opening times"
    )
    if not isinstance(hours.get("twentyfourseven"), bool):
        raise ValidationError("Opening times need twentyfourseven: true or false.")
    regular = []
    for n, period in enumerate(_list(hours.get("regular_hours"), "regular_hours"), start=1):
        what = f"regular_hours #{n}"
        period = _dict(period, what)
        _unknown_keys(period, {"weekday", "period_begin", "period_end"}, what)
        weekday = period.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 1 <= weekday <= 7:
            raise ValidationError(f"{what}: weekday must be 1 (Monday) to 7 (Sunday), not {weekday!r}.")
        begin, end = str(period.get("period_begin", "")), str(period.get("period_end", ""))
        for label, text in (("period_begin", begin), ("period_end", end)):
            if not _HHMM.match(text):
                raise ValidationError(f"{what}: {label} must be HH:MM (00:00-23:59), not {text!r}.")
        # An end before the begin is a period that runs past midnight (e.g. 22:00-02:00).
        if begin == end:
            raise ValidationError(f"{what}: period_begin and period_end are both {begin}.")
        regular.append({"weekday": weekday, "period_begin": begin, "period_end": end})
    if hours["twentyfourseven"] and regular:
        raise ValidationError("Opening times: regular_hours must be empty when twentyfourseven is true.")
    if not hours["twentyfourseven"] and not regular:
        raise ValidationError("Opening times: give regular_hours (at least one period) or set twentyfourseven.")
    _check_overlaps(regular)
    result = {"twentyfourseven": hours["twentyfourseven"]}
    if regular:
        result["regular_hours"] = sorted(regular, key=lambda p: (p["weekday"], p["period_begin"]))
    for key in ("exceptional_openings", "exceptional_closings"):
        periods = []
        for n, period in enumerate(_list(hours.get(key), key), start=1):
            what = f"{key} #{n}"
            period = _dict(period, what)
            _unknown_keys(period, {"period_begin", "period_end"}, what)
            begin = _datetime(period.get("period_begin"), f"{what}: period_begin")
            end = _datetime(period.get("period_end"), f"{what}: period_end")
            if end <= begin:
                raise ValidationError(f"{what}: period_end must be after period_begin.")
            periods.append({"period_begin": period["period_begin"], "period_end": period["period_end"]})
        if periods:
            result[key] = periods
    return result


def _check_overlaps(regular: list[dict]) -> None:
    by_day: dict[int, list[tuple[str, str]]] = {}
    for p in regular:
        if p["period_end"] > p["period_begin"]:  # overnight periods are left alone
            by_day.setdefault(p["weekday"], []).append((p["period_begin"], p["period_end"]))
    for weekday, periods in by_day.items():
        periods.sort()
        for (_, end), (begin, _) in zip(periods, periods[1:], strict=False):
            if begin < end:
                raise ValidationError(f"Opening times: periods on weekday {weekday} overlap ({begin} < {end}).")


def validate_images(value) -> list[dict]:
    result = []
    for n, item in enumerate(_list(value, "Images"), start=1):
        what = f"Image #{n}"
        item = _dict(item, what)
        _unknown_keys(item, {"url", "thumbnail", "category", "type", "width", "height"}, what)
        image = {
            "url": _url(item.get("url"), f"{what}: url"),
            "category": enum_value(item.get("category"), IMAGE_CATEGORIES, f"{what}: category"),
            "type": str(item.get("type") or "").strip().lower(),
        }
        if not re.match(r"^[a-z0-9]{1,4}$", image["type"]):
            raise ValidationError(f"{what}: type is the image file type such as jpeg or png (at most 4 characters).")
        if item.get("thumbnail"):
            image["thumbnail"] = _url(item["thumbnail"], f"{what}: thumbnail")
        for key in ("width", "height"):
            if item.get(key) not in (None, ""):
                size = item[key]
                if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= 99999:
                    raise ValidationError(f"{what}: {key} must be a whole number of pixels (1-99999).")
                image[key] = size
        result.append(image)
    return result


def validate_directions(value) -> list[dict]:
    result = []
    for n, item in enumerate(_list(value, "Directions"), start=1):
        what = f"Directions #{n}"
        item = _dict(item, what)
        _unknown_keys(item, {"language", "text"}, what)
        language = str(item.get("language") or "").strip().lower()
        text = str(item.get("text") or "").strip()
        if not _LANGUAGE.match(language):
            raise ValidationError(f"{what}: language must be an ISO 639-1 code such as en or de.")
        if not text or len(text) > 512:
            raise ValidationError(f"{what}: text must have 1 to 512 characters.")
        result.append({"language": language, "text": text})
    return result


def validate_publish_allowed_to(value) -> list[dict]:
    """OCPI PublishTokenType: uid (+ type), or visual_number + issuer, or group_id."""
    result = []
    for n, item in enumerate(_list(value, "publish_allowed_to"), start=1):
        what = f"publish_allowed_to #{n}"
        item = _dict(item, what)
        _unknown_keys(item, {"uid", "type", "visual_number", "issuer", "group_id"}, what)
        entry = {k: str(v).strip() for k, v in item.items() if v not in (None, "")}
        if "type" in entry:
            entry["type"] = enum_value(entry["type"], TOKEN_TYPES, f"{what}: type")
        if not (entry.get("uid") or (entry.get("visual_number") and entry.get("issuer")) or entry.get("group_id")):
            raise ValidationError(f"{what}: give uid, or visual_number and issuer, or group_id.")
        result.append(entry)
    return result


def validate_energy_mix(value) -> dict | None:
    if value in (None, "", {}):
        return None
    mix = _dict(value, "Energy mix")
    _unknown_keys(
        mix,
        {"is_green_energy", "energy_sources", "environ_impact", "supplier_name", "energy_product_name"},
        "Energy mix",
    )
    if not isinstance(mix.get("is_green_energy"), bool):
        raise ValidationError("Energy mix needs is_green_energy: true or false.")
    result = {"is_green_energy": mix["is_green_energy"]}
    sources = []
    for n, item in enumerate(_list(mix.get("energy_sources"), "energy_sources"), start=1):
        item = _dict(item, f"energy_sources #{n}")
        source = enum_value(item.get("source"), ENERGY_SOURCES, f"energy_sources #{n}: source")
        percentage = item.get("percentage")
        if isinstance(percentage, bool) or not isinstance(percentage, int | float) or not 0 <= percentage <= 100:
            raise ValidationError(f"energy_sources #{n}: percentage must be a number from 0 to 100.")
        sources.append({"source": source, "percentage": percentage})
    if sources and abs(sum(s["percentage"] for s in sources) - 100) > 0.5:
        raise ValidationError("Energy mix: the energy_sources percentages must add up to 100.")
    if sources:
        result["energy_sources"] = sources
    impacts = []
    for n, item in enumerate(_list(mix.get("environ_impact"), "environ_impact"), start=1):
        item = _dict(item, f"environ_impact #{n}")
        category = enum_value(item.get("category"), ENVIRONMENTAL_IMPACTS, f"environ_impact #{n}: category")
        amount = item.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise ValidationError(f"environ_impact #{n}: amount must be a number (g/kWh) of at least 0.")
        impacts.append({"category": category, "amount": amount})
    if impacts:
        result["environ_impact"] = impacts
    for key in ("supplier_name", "energy_product_name"):
        if mix.get(key):
            if len(str(mix[key])) > 64:
                raise ValidationError(f"Energy mix: {key} has at most 64 characters.")
            result[key] = str(mix[key])
    return result


def validate_website(value, what: str) -> str:
    return _url(value, what, required=False)


# ----------------------------------------------------------------------------- connectors


def validate_emi3_evse_id(value: str) -> str:
    text = (value or "").strip().upper()
    if text and not EMI3_EVSE_ID.match(text):
        raise ValidationError(f"{text!r} is not an eMI3 EVSE ID such as DE*EVZ*E123*1.")
    return text


def check_power_type(standard: str, power_type: str) -> None:
    if not standard or not power_type:
        return
    if standard in DC_ONLY and power_type != "DC":
        raise ValidationError({"power_type": f"A {standard} connector is DC, not {power_type}."})
    if standard in AC_ONLY and power_type == "DC":
        raise ValidationError({"power_type": f"A {standard} connector is AC, not DC."})
