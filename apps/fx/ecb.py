"""The ECB euro reference rate feed: parsing (pure) and downloading.

Format of https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml (the 90-day and
historic files have the same shape with one dated <Cube time=...> per day):

    <gesmes:Envelope ...><Cube><Cube time="2026-11-24"><Cube currency="USD" rate="1.1612"/>...
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
TIMEOUT_SECONDS = 20
_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class FeedError(ValueError):
    """The document is not a usable ECB reference rate feed."""


@dataclass(frozen=True)
class Rate:
    date: dt.date
    currency: str
    rate: Decimal  # units of `currency` per 1 EUR


def parse_ecb_xml(content: bytes | str) -> list[Rate]:
    raw = content.encode() if isinstance(content, str) else content
    # The stdlib parser resolves internal entities; the feed never has a DTD, so refusing one
    # rules out entity-expansion tricks without needing defusedxml.
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise FeedError("A DTD is not expected in the ECB feed.")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise FeedError(f"Not XML: {exc}") from exc
    rates: list[Rate] = []
    for day in root.iter(f"{_NS}Cube"):
        if "time" not in day.attrib:
            continue
        try:
            date = dt.date.fromisoformat(day.attrib["time"])
        except ValueError as exc:
            raise FeedError(f"Bad date {day.attrib['time']!r}.") from exc
        for cube in day.findall(f"{_NS}Cube"):
            currency, text = cube.attrib.get("currency", ""), cube.attrib.get("rate", "")
            try:
                rate = Decimal(text)
            except InvalidOperation as exc:
                raise FeedError(f"Bad rate {text!r} for {currency}.") from exc
            if not _CURRENCY.match(currency) or not rate.is_finite() or rate <= 0:
                raise FeedError(f"Bad entry {currency!r} = {text!r}.")
            rates.append(Rate(date, currency, rate))
    if not rates:
        raise FeedError("The feed holds no rates.")
    return rates


def download(url: str = DAILY_URL, timeout: float = TIMEOUT_SECONDS) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "EVzone exchange rates"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
        return response.read(2_000_000)
