"""Plain, immutable values the pricing engine works on (no Django, no ORM): tariffs and sessions.

They mirror the OCPI 2.2.1 Tariff object field for field, plus EVzone's idle fee.
Build them from the database (`apps.tariffs.ocpi.tariff_to_domain`) or straight
from OCPI JSON (`tariff_from_ocpi`), so an imported tariff and a stored one price
a session identically.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

DIMENSIONS = ("ENERGY", "FLAT", "PARKING_TIME", "TIME")
TARIFF_TYPES = ("AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR")
DAYS_OF_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
RESERVATION_TYPES = ("RESERVATION", "RESERVATION_EXPIRES")


@dataclass(frozen=True)
class PriceComponent:
    type: str  # one of DIMENSIONS
    price: Decimal  # excl. VAT, per kWh (ENERGY), per hour (TIME, PARKING_TIME) or per session (FLAT)
    step_size: int  # Wh for ENERGY, seconds for TIME / PARKING_TIME, ignored for FLAT
    vat: Decimal | None = None  # percent; None means "no VAT applicable" (not the same as 0 %)


@dataclass(frozen=True)
class Restrictions:
    start_time: dt.time | None = None  # local time of day, inclusive
    end_time: dt.time | None = None  # local time of day, exclusive; end < start wraps past midnight
    start_date: dt.date | None = None  # local date, inclusive
    end_date: dt.date | None = None  # local date, exclusive
    min_kwh: Decimal | None = None  # energy used so far in the session, inclusive
    max_kwh: Decimal | None = None  # exclusive
    min_current: Decimal | None = None  # A summed over phases, inclusive
    max_current: Decimal | None = None  # exclusive
    min_power: Decimal | None = None  # kW, inclusive
    max_power: Decimal | None = None  # exclusive
    min_duration: int | None = None  # seconds since session start, inclusive
    max_duration: int | None = None  # exclusive
    day_of_week: tuple[str, ...] = ()
    reservation: str | None = None  # RESERVATION | RESERVATION_EXPIRES


@dataclass(frozen=True)
class Element:
    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions | None = None


@dataclass(frozen=True)
class Price:
    excl_vat: Decimal
    incl_vat: Decimal | None = None


@dataclass(frozen=True)
class IdleFee:
    """EVzone extension (not expressible in OCPI): a fee per hour of parking after a grace
    period counted from the end of charging, on top of any PARKING_TIME price component."""

    price_per_hour: Decimal
    grace_minutes: int = 0
    vat: Decimal | None = None


@dataclass(frozen=True)
class Tariff:
    currency: str
    elements: tuple[Element, ...]
    id: str = ""
    min_price: Price | None = None
    max_price: Price | None = None
    start_date_time: dt.datetime | None = None
    end_date_time: dt.datetime | None = None
    idle_fee: IdleFee | None = None
    extra: dict = field(default_factory=dict, compare=False)


# --------------------------------------------------------------------------- session input


class PricingError(ValueError):
    """The session cannot be priced (inconsistent input)."""


@dataclass(frozen=True)
class MeterSample:
    timestamp: dt.datetime
    energy_wh: Decimal  # cumulative; counted from the sample at the session start (or from 0)
    power_kw: Decimal | None = None
    current_a: Decimal | None = None


@dataclass(frozen=True)
class Session:
    start: dt.datetime
    end: dt.datetime
    time_zone: str = "UTC"
    samples: tuple[MeterSample, ...] = ()
    energy_wh: Decimal | None = None  # used only without samples
    charging_end: dt.datetime | None = None
    power_kw: Decimal | None = None  # power while charging, for restrictions, when samples do not say
    current_a: Decimal | None = None
    idle_power_threshold_kw: Decimal = Decimal(0)
    phase_voltage: Decimal = Decimal(230)
    reservation_start: dt.datetime | None = None
    reservation_expired: bool = False  # then only the reservation [reservation_start, start) is priced


# --------------------------------------------------------------------------- from OCPI JSON


def _dec(value) -> Decimal | None:
    # str() first: a float from json.loads would otherwise carry binary noise (0.1 -> 0.1000000000000000055...).
    return None if value is None else Decimal(str(value))


def _time(value: str | None) -> dt.time | None:
    return None if value is None else dt.time.fromisoformat(value)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def parse_datetime(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    # OCPI DateTimes are UTC; a value without an offset is read as UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def restrictions_from_ocpi(data: dict | None) -> Restrictions | None:
    if data is None:
        return None
    return Restrictions(
        start_time=_time(data.get("start_time")),
        end_time=_time(data.get("end_time")),
        start_date=_date(data.get("start_date")),
        end_date=_date(data.get("end_date")),
        min_kwh=_dec(data.get("min_kwh")),
        max_kwh=_dec(data.get("max_kwh")),
        min_current=_dec(data.get("min_current")),
        max_current=_dec(data.get("max_current")),
        min_power=_dec(data.get("min_power")),
        max_power=_dec(data.get("max_power")),
        min_duration=data.get("min_duration"),
        max_duration=data.get("max_duration"),
        day_of_week=tuple(data.get("day_of_week") or ()),
        reservation=data.get("reservation"),
    )


def _price(data: dict | None) -> Price | None:
    return None if data is None else Price(_dec(data["excl_vat"]), _dec(data.get("incl_vat")))


def tariff_from_ocpi(data: dict, idle_fee: IdleFee | None = None) -> Tariff:
    """An OCPI 2.2.1 Tariff object (already validated, e.g. by `OcpiTariffSerializer`) as engine values."""
    return Tariff(
        id=str(data.get("id", "")),
        currency=data["currency"],
        elements=tuple(
            Element(
                price_components=tuple(
                    PriceComponent(
                        type=pc["type"],
                        price=_dec(pc["price"]),
                        step_size=int(pc["step_size"]),
                        vat=_dec(pc.get("vat")),
                    )
                    for pc in element["price_components"]
                ),
                restrictions=restrictions_from_ocpi(element.get("restrictions")),
            )
            for element in data["elements"]
        ),
        min_price=_price(data.get("min_price")),
        max_price=_price(data.get("max_price")),
        start_date_time=parse_datetime(data.get("start_date_time")),
        end_date_time=parse_datetime(data.get("end_date_time")),
        idle_fee=idle_fee,
    )
