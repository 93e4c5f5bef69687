"""The worked examples of the OCPI 2.2.1 Tariffs module (and the CDR module's step_size
section), with the amounts the specification states. Plain unit tests: no database."""

import datetime as dt
from decimal import Decimal

from apps.tariffs.engine import Session
from tests.tariffs import ocpi_examples as ex
from tests.tariffs.helpers import at, billed, elements, exact, ocpi, price, samples, session, totals

D = Decimal


def test_simple_025_per_kwh_20_kwh():
    assert totals(price(ocpi(ex.SIMPLE_025_KWH), session("2025-03-03 10:00", 120, 20))) == ("5.00", "5.50")


def test_025_per_kwh_plus_start_fee():
    assert totals(price(ocpi(ex.START_FEE), session("2025-03-03 10:00", 120, 20))) == ("5.50", "6.10")


def test_min_price_only_bites_below_it():
    tariff = ocpi(ex.MIN_PRICE)
    assert totals(price(tariff, session("2025-03-03 10:00", 120, 20))) == ("5.00", "5.50")
    small = price(tariff, session("2025-03-03 10:00", 10, "1.5"))
    assert totals(small) == ("0.50", "0.55") and small.min_price_applied


def test_start_fee_energy_and_parking_per_15_minutes():
    # 20 kWh, parked 40 minutes: 45 minutes of parking are billed.
    result = price(ocpi(ex.PARKING_START), session("2025-03-03 10:00", 120, 20, parking_minutes=40))
    assert totals(result) == ("7.00", "7.90")
    assert billed(result, "PARKING_TIME", 60) == [D(45)]


def test_max_price_caps_excl_and_incl_separately():
    tariff = ocpi(ex.START_MAX_PRICE)
    capped = price(tariff, session("2019-03-03 10:00", 180, 50))
    assert totals(capped) == ("10.00", "11.00") and capped.max_price_applied
    assert totals(price(tariff, session("2019-03-03 10:00", 180, 30))) == ("8.00", "8.85")


def test_two_euro_per_hour_charging_time():
    assert totals(price(ocpi(ex.SIMPLE_2_PER_HOUR), session("2025-03-03 10:00", 150, 30))) == ("5.00", "5.50")


def test_three_per_hour_charging_five_per_hour_parking():
    result = price(ocpi(ex.TIME_AND_PARKING), session("2025-03-03 10:00", 150, 30, parking_minutes=42))
    assert totals(result) == ("11.25", "12.75")
    assert billed(result, "TIME", 60) == [D(150)] and billed(result, "PARKING_TIME", 60) == [D(45)]


def test_ad_hoc_alt_text_example():
    result = price(ocpi(ex.ALT_TEXT), session("2025-03-03 10:00", 150, 30))
    assert totals(result) == ("4.75", "5.00")  # 4.997 incl. VAT, rounded once


def test_alt_url_example_energy_per_100_wh():
    result = price(ocpi(ex.ALT_URL), session("2025-03-03 10:00", 60, "20.45"))
    assert billed(result, "ENERGY") == [D("20.5")]
    assert exact(result) == (D("5.625"), D("6.2375"))
    assert totals(result) == ("5.63", "6.24")
    # With the real-time price of 0.22 the page behind tariff_alt_url announces:
    cheaper = ocpi(ex.ALT_URL.replace('"price": 0.25', '"price": 0.22'))
    assert totals(price(cheaper, session("2025-03-03 10:00", 60, "20.45"))) == ("5.01", "5.56")


def test_complex_example_monday_morning_16_amps():
    # 2025-03-03 is a Monday. 165 min charging at 16 A, 42 min parking (weekday 09-18 rate).
    result = price(
        ocpi(ex.COMPLEX),
        session("2025-03-03 09:30", 165, 10, parking_minutes=42, time_zone="UTC", current_a=D(16)),
    )
    assert totals(result) == ("9.00", "10.30")
    assert billed(result, "TIME", 60) == [D(165)] and billed(result, "PARKING_TIME", 60) == [D(45)]


def test_complex_example_saturday_afternoon_43_amps():
    # 2025-03-08 is a Saturday; 114 min at 43 A, then 71 min parking (Saturday 10-17 rate).
    result = price(
        ocpi(ex.COMPLEX),
        session("2025-03-08 13:30", 114, 30, parking_minutes=71, time_zone="UTC", current_a=D(43)),
    )
    assert exact(result) == (D("12.375"), D("13.975"))
    assert totals(result) == ("12.38", "13.98")  # the spec states the unrounded figures
    assert billed(result, "TIME", 60) == [D(114)] and billed(result, "PARKING_TIME", 60) == [D(75)]


def test_free_of_charge():
    assert totals(price(ocpi(ex.FREE), session("2025-03-03 10:00", 60, 20, parking_minutes=30))) == ("0.00", "0.00")


def test_first_kwh_and_first_hour_of_parking_free():
    # The example ignores the charging time; 20 kWh within one second comes closest.
    s = Session(
        start=at("2025-03-03 10:00"),
        end=at("2025-03-03 12:45:01"),
        samples=samples("2025-03-03 10:00", (0, 0), (1 / 60, 20)),
    )
    result = price(ocpi(ex.FIRST_HOUR_FREE), s)
    assert billed(result, "ENERGY") == [D(1), D(19)]
    assert totals(result) == ("7.30", "7.30")  # 3.80 energy + 3.50 parking; no VAT given


def test_energy_step_size_note_115_wh():
    # "115.2 Wh ... billed for 116 Wh: 0.029 euro; step 25: 0.031; step 500: 0.125" (unrounded figures).
    for step, expected in ((1, "0.029"), (25, "0.03125"), (500, "0.125")):
        tariff = ocpi(ex.SIMPLE_025_KWH.replace('"step_size": 1', f'"step_size": {step}'))
        assert exact(price(tariff, session("2025-03-03 10:00", 10, "0.1152")))[0] == D(expected)


def test_step_size_switching_element_2_rounds_total_charging_time():
    # 16:35, 35 minutes charging: 25 min before 17:00 (0.50) + 20 billed after (0.80).
    result = price(ocpi(ex.STEP_SIZE), session("2025-03-03 16:35", 35, 5))
    assert billed(result, "TIME", 60) == [D(25), D(20)]
    assert exact(result)[0] == D("1.30")


def test_step_size_switching_element_1_documented_deviation():
    # 16:55, 10 min charging then 2 min parking. The 2.2.1 example says 0.383 (rounding charging +
    # parking together to 15 min). The CDR module's rule, which the engine follows, rounds the
    # parking total alone: 5+5 charging minutes (0.10 + 0.20) and 15 parking minutes (0.25).
    result = price(ocpi(ex.STEP_SIZE), session("2025-03-03 16:55", 10, 5, parking_minutes=2))
    assert billed(result, "TIME", 60) == [D(5), D(5)] and billed(result, "PARKING_TIME", 60) == [D(15)]
    assert exact(result)[0] == D("0.55")


def test_step_size_switching_to_free_element_documented_deviation():
    # 19:40, 12 min charging, 20 min parking; parking is free after 20:00. The example says 0.78
    # (12 + 18 minutes); by the CDR rule the 8 paid parking minutes round to 15: 0.48 + 0.25.
    result = price(ocpi(ex.STEP_SIZE), session("2025-03-03 19:40", 12, 5, parking_minutes=20))
    assert billed(result, "TIME", 60) == [D(12)] and billed(result, "PARKING_TIME", 60) == [D(15)]
    assert exact(result)[0] == D("0.73")


STEP_10_MIN = """{"id": "x", "currency": "EUR", "elements": [{"price_components": [
  {"type": "TIME", "price": 1.00, "step_size": 600}, {"type": "PARKING_TIME", "price": 2.00, "step_size": 600}]}],
  "last_updated": "2019-01-01T00:00:00Z"}"""


def test_cdr_module_step_size_charging_then_parking():
    # CDR module: 21 min charging + 16 min parking, both per 10 min -> 21 and 20 minutes.
    result = price(ocpi(STEP_10_MIN), session("2025-03-03 10:00", 21, 5, parking_minutes=16))
    assert billed(result, "TIME", 60) == [D(21)] and billed(result, "PARKING_TIME", 60) == [D(20)]


def test_cdr_module_step_size_uses_session_totals():
    # 0.20 before 17:00, 0.27 after, per 500 Wh: 4.3 + 1.1 kWh = 5.4 -> 5.5, so 1.2 kWh billed after 17:00.
    energy = """{"id": "e", "currency": "EUR", "elements": [
      {"price_components": [{"type": "ENERGY", "price": 0.20, "step_size": 500}],
       "restrictions": {"end_time": "17:00"}},
      {"price_components": [{"type": "ENERGY", "price": 0.27, "step_size": 500}]}],
      "last_updated": "2019-01-01T00:00:00Z"}"""
    s = Session(
        start=at("2025-03-03 16:00"),
        end=at("2025-03-03 18:00"),
        samples=samples("2025-03-03 16:00", (0, 0), (60, "4.3"), (120, "5.4")),
    )
    assert billed(price(ocpi(energy), s), "ENERGY") == [D("4.3"), D("1.2")]
    # 5/h before 17:00, 7/h after, per 10 min: 6 + 22 minutes = 28 -> 30, so 24 minutes after 17:00.
    time = energy.replace('"ENERGY"', '"TIME"').replace("500", "600")
    result = price(ocpi(time), session("2025-03-03 16:54", 28, 5))
    assert billed(result, "TIME", 60) == [D(6), D(24)]


def test_max_power_restriction_example():
    s = Session(
        start=at("2025-03-03 10:00"),
        end=at("2025-03-03 11:07:30"),
        samples=samples("2025-03-03 10:00", (0, 0), (10, 1), (60, 41), (67.5, "41.5")),
    )
    result = price(ocpi(ex.MAX_POWER), s)
    assert elements(result) == [0, 2, 0]
    assert exact(result)[0] == D("20.30")


def test_max_duration_restriction_example():
    s = Session(
        start=at("2025-03-03 10:00"),
        end=at("2025-03-03 10:40"),
        samples=samples("2025-03-03 10:00", (0, 0), (30, 5), (40, "6.2")),
    )
    assert exact(price(ocpi(ex.MAX_DURATION), s))[0] == D("0.30")


def _reserved(minutes_before: int, kwh=20, expired=False) -> Session:
    """A reservation made `minutes_before` the session start; expired: nobody came, it ran out then."""
    start = at("2025-03-03 10:00")
    reservation_start = start - dt.timedelta(minutes=minutes_before)
    if expired:
        return Session(start=start, end=start, reservation_start=reservation_start, reservation_expired=True)
    return Session(
        start=start, end=start + dt.timedelta(hours=1), energy_wh=D(kwh) * 1000, reservation_start=reservation_start
    )


def test_reservation_examples():
    assert totals(price(ocpi(ex.RESERVATION), _reserved(15))) == ("6.75", "7.60")
    assert totals(price(ocpi(ex.RESERVATION_FEE), _reserved(13))) == ("8.75", "10.00")
    assert totals(price(ocpi(ex.RESERVATION_EXPIRE_FEE), _reserved(22))) == ("6.50", "7.30")
    assert totals(price(ocpi(ex.RESERVATION_EXPIRE_FEE), _reserved(60, expired=True))) == (
        "6.00",
        "7.20",
    )
    assert totals(price(ocpi(ex.RESERVATION_EXPIRE_TIME), _reserved(22))) == ("7.00", "7.90")
    assert totals(price(ocpi(ex.RESERVATION_EXPIRE_TIME), _reserved(90, expired=True))) == (
        "9.00",
        "10.80",
    )
