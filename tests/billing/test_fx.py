"""ECB reference rates: parsing, idempotent storage, the offline snapshot, the fetch task, conversion."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.fx import ecb, services
from apps.fx.models import ExchangeRate
from apps.fx.selectors import RateUnavailable, convert
from apps.fx.tasks import fetch_ecb_rates

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
\t\t<Cube time='{day}'>
\t\t\t<Cube currency='USD' rate='{usd}'/>
\t\t\t<Cube currency='JPY' rate='181.27'/>
\t\t\t<Cube currency='CHF' rate='0.9300'/>
\t\t</Cube>
\t</Cube>
</gesmes:Envelope>"""


def feed(day="2026-01-14", usd="1.1600") -> bytes:
    return FEED.format(day=day, usd=usd).encode()


def test_parse_the_ecb_daily_file():
    rates = ecb.parse_ecb_xml(feed())
    assert [(r.date, r.currency, r.rate) for r in rates] == [
        (dt.date(2026, 1, 14), "USD", Decimal("1.1600")),
        (dt.date(2026, 1, 14), "JPY", Decimal("181.27")),
        (dt.date(2026, 1, 14), "CHF", Decimal("0.9300")),
    ]
    # The shipped snapshot is a well-formed ECB file too.
    snapshot = ecb.parse_ecb_xml(services.SNAPSHOT.read_bytes())
    assert len(snapshot) > 25 and {r.currency for r in snapshot} >= {"USD", "GBP", "CHF", "JPY"}


@pytest.mark.parametrize(
    "bad",
    [
        b"<html>maintenance</html>",
        b"not xml",
        feed(usd="-1"),
        feed(usd="abc"),
        b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    ],
)
def test_malformed_feeds_are_refused(bad):
    with pytest.raises(ecb.FeedError):
        ecb.parse_ecb_xml(bad)


@pytest.mark.django_db
def test_storing_is_idempotent_and_takes_republished_values():
    rates = ecb.parse_ecb_xml(feed())
    first = services.exchange_rates_store(rates=rates)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = services.exchange_rates_store(rates=rates)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    fixed = services.exchange_rates_store(rates=ecb.parse_ecb_xml(feed(usd="1.1601")))
    assert (fixed.created, fixed.updated, fixed.unchanged) == (0, 1, 2)
    assert ExchangeRate.objects.get(date=dt.date(2026, 1, 14), currency="USD").rate == Decimal("1.1601")
    assert ExchangeRate.objects.filter(date=dt.date(2026, 1, 14)).count() == 3


@pytest.mark.django_db
def test_fetch_task_stores_the_feed_and_keeps_old_rates_when_offline(monkeypatch, caplog):
    ExchangeRate.objects.all().delete()
    monkeypatch.setattr(ecb, "download", lambda *a, **k: feed(day="2026-01-15"))
    fetch_ecb_rates()  # the beat task, eager here
    assert ExchangeRate.objects.filter(date=dt.date(2026, 1, 15), source="ecb").count() == 3

    def offline(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(ecb, "download", offline)
    assert services.exchange_rates_fetch_ecb() is None
    assert "keeping the last ones" in caplog.text
    assert ExchangeRate.objects.count() == 3  # unchanged, and no snapshot since rates exist


@pytest.mark.django_db
def test_a_fresh_offline_install_converts_with_the_snapshot():
    ExchangeRate.objects.all().delete()
    assert services.exchange_rates_fetch_ecb(fetch=lambda: b"<html>proxy error</html>") is None
    snapshot_day = ecb.parse_ecb_xml(services.SNAPSHOT.read_bytes())[0].date
    assert ExchangeRate.objects.filter(source="snapshot", date=snapshot_day).exists()
    result = convert(Decimal("10"), "EUR", "USD", dt.date(2030, 1, 1))
    assert result.rate_date == snapshot_day and result.currency == "USD"


@pytest.mark.django_db
def test_cross_rates_through_eur_record_rate_and_date():
    ExchangeRate.objects.all().delete()
    services.exchange_rates_store(rates=ecb.parse_ecb_xml(feed(day="2026-01-14")))
    services.exchange_rates_store(rates=ecb.parse_ecb_xml(feed(day="2026-01-16", usd="1.2000")))
    # A Thursday without publication (holiday) uses the latest earlier day.
    usd_chf = convert(Decimal("100.00"), "USD", "CHF", dt.date(2026, 1, 15))
    assert usd_chf.rate == Decimal("0.8017241379") and usd_chf.rate_date == dt.date(2026, 1, 14)
    assert usd_chf.amount == Decimal("80.17") and usd_chf.source_amount == Decimal("100.00")
    # JPY has no minor unit: rounded half up to whole yen.
    jpy = convert(Decimal("10.00"), "EUR", "JPY", dt.date(2026, 1, 16))
    assert jpy.amount == Decimal("1813") and jpy.rate == Decimal("181.27") and jpy.rate_date == dt.date(2026, 1, 16)
    back = convert(Decimal("1813"), "JPY", "EUR", dt.date(2026, 1, 16))
    assert back.amount == Decimal("10.00") and back.rate == Decimal("0.0055166326")
    # Before the first stored day the earliest is used, and says so.
    assert convert(Decimal(1), "EUR", "USD", dt.date(2025, 1, 1)).rate_date == dt.date(2026, 1, 14)
    same = convert(Decimal("5.005"), "EUR", "EUR", dt.date(2026, 1, 16))
    assert same.amount == Decimal("5.01") and same.rate == 1
    with pytest.raises(RateUnavailable):
        convert(Decimal(1), "EUR", "KWD", dt.date(2026, 1, 16))


def test_beat_fetches_the_rates_every_working_day():
    from config.celery import app

    entry = app.conf.beat_schedule["fx-fetch-ecb-rates"]
    assert entry["task"] == "fx.fetch_ecb_rates" and "fx.fetch_ecb_rates" in app.tasks
    assert entry["schedule"].hour == {15} and entry["schedule"].day_of_week == {1, 2, 3, 4, 5}
