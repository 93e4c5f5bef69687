"""Awkward sessions for the pricing engine. Plain unit tests: no database."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.tariffs.domain import IdleFee
from apps.tariffs.engine import PricingError, Session
from tests.tariffs.helpers import at, billed, elements, exact, ocpi, price, samples, session, totals

D = Decimal


def tariff_json(elements: str, currency="EUR", extra="") -> str:
    head = f'{{"id": "t", "currency": "{currency}", "elements": [{elements}], {extra}'
    return head + ' "last_updated": "2025-01-01T00:00:00Z"}'


NIGHT = tariff_json(
    """{"price_components": [{"type": "ENERGY", "price": 0.20, "vat": 19, "step_size": 1}],
        "restrictions": {"start_time": "00:00", "end_time": "06:00"}},
       {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19, "step_size": 1}]}"""
)
EVENING_CHANGE = tariff_json(
    """{"price_components": [{"type": "TIME", "price": 2.00, "vat": 19, "step_size": 1}],
        "restrictions": {"end_time": "18:00"}},
       {"price_components": [{"type": "TIME", "price": 3.00, "vat": 19, "step_size": 1}],
        "restrictions": {"start_time": "18:00"}}"""
)


def test_session_over_midnight_local_time():
    # 23:00-01:00 Berlin (UTC+1 in January): half the energy before midnight at 0.30, half after at 0.20.
    result = price(ocpi(NIGHT), session("2025-01-10 22:00", 120, 20, time_zone="Europe/Berlin"))
    assert billed(result, "ENERGY") == [D(10), D(10)]
    assert totals(result) == ("5.00", "5.95")
    assert [p.start.isoformat() for p in result.periods] == ["2025-01-10T22:00:00+00:00", "2025-01-10T23:00:00+00:00"]


def test_time_window_that_wraps_past_midnight():
    wrap = NIGHT.replace('"start_time": "00:00", "end_time": "06:00"', '"start_time": "22:00", "end_time": "02:00"')
    # 21:00-23:00 local: one hour outside, one inside the 22:00-02:00 window.
    result = price(ocpi(wrap), session("2025-01-10 20:00", 120, 20, time_zone="Europe/Berlin"))
    assert elements(result) == [1, 0]
    assert exact(result)[0] == D("5.00")


def test_tariff_change_at_18_local_across_dst_offset():
    # Summer: Berlin is UTC+2, so 15:30Z-16:30Z is 17:30-18:30 local.
    result = price(ocpi(EVENING_CHANGE), session("2025-07-01 15:30", 60, 11, time_zone="Europe/Berlin"))
    assert billed(result, "TIME", 60) == [D(30), D(30)]
    assert totals(result) == ("2.50", "2.98")  # 1.00 + 1.50; 2.975 incl. VAT rounds half up


def test_times_given_in_local_time_across_the_dst_switch():
    # 2025-03-30 01:30 to 03:30 Berlin wall-clock is one real hour (02:00 does not exist that night).
    berlin = ZoneInfo("Europe/Berlin")
    tariff = tariff_json('{"price_components": [{"type": "TIME", "price": 1.00, "step_size": 1}]}')
    s = Session(
        start=dt.datetime(2025, 3, 30, 1, 30, tzinfo=berlin),
        end=dt.datetime(2025, 3, 30, 3, 30, tzinfo=berlin),
        energy_wh=D(5000),
        time_zone="Europe/Berlin",
    )
    assert totals(price(ocpi(tariff), s)) == ("1.00", "1.00")


def test_zero_kwh_session_is_parking_and_pays_only_flat():
    tariff = tariff_json(
        """{"price_components": [{"type": "FLAT", "price": 1.00, "vat": 20, "step_size": 1},
            {"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 1},
            {"type": "TIME", "price": 1.00, "vat": 20, "step_size": 60}]}"""
    )
    result = price(ocpi(tariff), session("2025-03-03 10:00", 60, 0))
    assert totals(result) == ("1.00", "1.20")
    assert [p.kind for p in result.periods] == ["PARKING"]
    assert billed(result, "ENERGY") == [] and billed(result, "TIME") == []


def test_zero_length_session_still_pays_flat():
    tariff = tariff_json('{"price_components": [{"type": "FLAT", "price": 0.50, "step_size": 0}]}')
    assert totals(price(ocpi(tariff), session("2025-03-03 10:00", 0, 0))) == ("0.50", "0.50")


def test_energy_reported_only_at_the_end_is_spread_evenly():
    # A charger that reports only at the end: the 20 kWh are spread evenly, across the 18:00 change.
    evening_energy = EVENING_CHANGE.replace('"TIME"', '"ENERGY"')
    only_end = Session(
        start=at("2025-01-10 16:00"),
        end=at("2025-01-10 18:00"),
        time_zone="Europe/Berlin",
        samples=samples("2025-01-10 16:00", (120, 20)),
    )
    even = session("2025-01-10 16:00", 120, 20, time_zone="Europe/Berlin")
    assert exact(price(ocpi(evening_energy), only_end)) == exact(price(ocpi(evening_energy), even))
    assert billed(price(ocpi(evening_energy), only_end), "ENERGY") == [D(10), D(10)]


def test_meter_samples_split_energy_at_kwh_restriction():
    tiered = tariff_json(
        """{"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}], "restrictions": {"max_kwh": 5}},
           {"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}]}"""
    )
    s = Session(
        start=at("2025-03-03 10:00"),
        end=at("2025-03-03 11:00"),
        samples=samples("2025-03-03 10:00", (0, 0), (30, 4), (60, 8)),
    )
    result = price(ocpi(tiered), s)
    assert billed(result, "ENERGY") == [D(5), D(3)]
    assert exact(result)[0] == D("2.00")


def test_currency_without_minor_unit_jpy():
    tariff = tariff_json('{"price_components": [{"type": "ENERGY", "price": 50, "vat": 10, "step_size": 1}]}', "JPY")
    result = price(ocpi(tariff), session("2025-03-03 10:00", 60, "12.345"))
    assert exact(result) == (D("617.25"), D("678.975"))
    assert totals(result) == ("617", "679")


@pytest.mark.parametrize("currency", ["KWD", "BHD"])
def test_currency_with_three_decimals(currency):
    tariff = tariff_json(
        '{"price_components": [{"type": "ENERGY", "price": 0.0375, "vat": 10, "step_size": 1}]}', currency
    )
    result = price(ocpi(tariff), session("2025-03-03 10:00", 60, "10.5"))
    assert exact(result) == (D("0.39375"), D("0.433125"))
    assert totals(result) == ("0.394", "0.433")


def test_rounding_happens_once_on_the_total():
    # Three periods of 0.005 each: rounding per period would give 0.03; the exact total 0.015 gives 0.02.
    tariff = tariff_json(
        """{"price_components": [{"type": "TIME", "price": 0.01, "step_size": 1}],
            "restrictions": {"end_time": "10:30"}},
           {"price_components": [{"type": "TIME", "price": 0.01, "step_size": 1}],
            "restrictions": {"end_time": "11:00"}},
           {"price_components": [{"type": "TIME", "price": 0.01, "step_size": 1}]}"""
    )
    result = price(ocpi(tariff), session("2025-03-03 10:00", 90, 9))
    assert len(result.periods) == 3
    assert totals(result) == ("0.02", "0.02")


def test_energy_step_size_rounds_session_total_on_last_element():
    tariff = NIGHT.replace('"step_size": 1', '"step_size": 1000')
    result = price(ocpi(tariff), session("2025-01-10 22:30", 60, "3.2", time_zone="Europe/Berlin"))
    assert billed(result, "ENERGY") == [D("1.6"), D("2.4")]  # 3.2 -> 4 kWh; the 0.8 go to the last period


def test_min_price_without_incl_vat_only_bounds_excl():
    tariff = tariff_json(
        '{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 10, "step_size": 1}]}',
        extra='"min_price": {"excl_vat": 1.00},',
    )
    result = price(ocpi(tariff), session("2025-03-03 10:00", 60, 1))
    assert totals(result) == ("1.00", "0.28") and result.min_price_applied


def test_day_of_week_restriction_switches_at_local_midnight():
    weekend = tariff_json(
        """{"price_components": [{"type": "TIME", "price": 1.00, "step_size": 1}],
            "restrictions": {"day_of_week": ["SATURDAY", "SUNDAY"]}},
           {"price_components": [{"type": "TIME", "price": 4.00, "step_size": 1}]}"""
    )
    # Friday 2025-03-07 23:00 to Saturday 01:00 in Berlin (UTC+1).
    result = price(ocpi(weekend), session("2025-03-07 22:00", 120, 20, time_zone="Europe/Berlin"))
    assert elements(result) == [1, 0]
    assert exact(result)[0] == D("5.00")


def test_power_restriction_uses_reported_power_over_average():
    tariff = tariff_json(
        """{"price_components": [{"type": "TIME", "price": 1.00, "step_size": 1}], "restrictions": {"min_power": 50}},
           {"price_components": [{"type": "TIME", "price": 0.50, "step_size": 1}]}"""
    )
    s = Session(
        start=at("2025-03-03 10:00"),
        end=at("2025-03-03 12:00"),
        samples=samples("2025-03-03 10:00", (0, 0), (60, 30, 60), (120, 40)),  # 60 kW reported, then ~10 kW
    )
    result = price(ocpi(tariff), s)
    assert elements(result) == [0, 1]
    assert exact(result)[0] == D("1.50")


def test_idle_fee_after_grace_period():
    tariff = tariff_json('{"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 20, "step_size": 1}]}')
    t = ocpi(tariff)
    t = type(t)(**{**t.__dict__, "idle_fee": IdleFee(D("6.00"), grace_minutes=15, vat=D(20))})
    result = price(t, session("2025-03-03 10:00", 60, 10, parking_minutes=45))
    idle = [ln for p in result.periods for ln in p.lines if ln.source == "idle_fee"]
    assert len(idle) == 1 and idle[0].volume * 60 == 30
    assert totals(result) == ("6.00", "7.20")  # 3.00 energy + 30 min x 6.00/h


def test_parking_below_power_threshold_mid_session():
    tariff = tariff_json(
        """{"price_components": [{"type": "TIME", "price": 1.00, "step_size": 1},
            {"type": "PARKING_TIME", "price": 3.00, "step_size": 1}]}"""
    )
    s = Session(
        start=at("2025-03-03 10:00"),
        end=at("2025-03-03 11:30"),
        idle_power_threshold_kw=D("0.5"),
        samples=samples("2025-03-03 10:00", (0, 0), (60, 11), (90, "11.1")),  # 0.2 kW trickle = parking
    )
    result = price(ocpi(tariff), s)
    assert [p.kind for p in result.periods] == ["CHARGING", "PARKING"]
    assert exact(result)[0] == D("2.50")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"start": at("2025-03-03 10:00"), "end": at("2025-03-03 09:00")}, "ends before"),
        ({"start": at("2025-03-03 10:00"), "end": at("2025-03-03 11:00"), "time_zone": "Mars/Olympus"}, "time zone"),
        ({"start": dt.datetime(2025, 3, 3, 10), "end": at("2025-03-03 11:00")}, "UTC offset"),
        ({"start": at("2025-03-01 10:00"), "end": at("2025-04-11 11:00")}, "31 days"),
        (
            {
                "start": at("2025-03-03 10:00"),
                "end": at("2025-03-03 11:00"),
                "samples": samples("2025-03-03 10:00", (10, 5), (20, 4)),
            },
            "decrease",
        ),
    ],
)
def test_inconsistent_sessions_are_refused(kwargs, message):
    tariff = tariff_json('{"price_components": [{"type": "TIME", "price": 1.00, "step_size": 1}]}')
    with pytest.raises(PricingError, match=message):
        price(ocpi(tariff), Session(**kwargs))


def test_date_range_restriction_starts_inclusive_ends_exclusive_in_local_time():
    promo = tariff_json(
        """{"price_components": [{"type": "ENERGY", "price": 0.10, "step_size": 1}],
            "restrictions": {"start_date": "2025-01-11", "end_date": "2025-01-12"}},
           {"price_components": [{"type": "ENERGY", "price": 0.40, "step_size": 1}]}"""
    )
    # 23:00 on the 10th to 01:00 on the 12th, Berlin: 1 h before, 24 h inside, 1 h after the promotion day.
    result = price(ocpi(promo), session("2025-01-10 22:00", 26 * 60, 26, time_zone="Europe/Berlin"))
    assert elements(result) == [1, 0, 1]
    assert billed(result, "ENERGY") == [D(1), D(24), D(1)]
    assert exact(result)[0] == D("3.20")
