"""OCPI 2.2.1 Tariff JSON <-> EVzone tariffs: validation of incoming objects, export of stored
ones, and conversion of stored tariffs into the engine's plain values.

Round trip: importing an OCPI Tariff and exporting it gives back the same JSON value
(numbers compare equal, absent optional fields stay absent). DateTimes are written as
UTC with a "Z"; an input with "+00:00" comes back with "Z".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.money import CURRENCIES
from apps.tariffs import domain
from apps.tariffs.models import Tariff

RESTRICTION_NUMBERS = ("min_kwh", "max_kwh", "min_current", "max_current", "min_power", "max_power")
TIME_RE = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$"


def _decimal(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=6, min_value=Decimal(0), **kwargs)


@extend_schema_field(
    {"type": "string", "enum": list(domain.TARIFF_TYPES), "description": "OCPI TariffType"},
    component_name="TariffType",
)
class TariffTypeField(serializers.ChoiceField):
    # A named schema component: left to drf-spectacular the enum would be named after the
    # field ("type") and collide with other apps' "type" enums (a warning `check --deploy` fails on).
    def __init__(self, **kwargs):
        super().__init__(choices=domain.TARIFF_TYPES, required=False, allow_null=True, allow_blank=True, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": list(domain.DIMENSIONS), "description": "OCPI TariffDimensionType"},
    component_name="TariffDimensionType",
)
class DimensionField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=domain.DIMENSIONS, **kwargs)


class DisplayTextSerializer(serializers.Serializer):
    language = serializers.RegexField(r"^[a-z]{2}$", help_text="ISO 639-1 code.")
    text = serializers.CharField(max_length=512)


class PriceSerializer(serializers.Serializer):
    excl_vat = _decimal()
    incl_vat = _decimal(required=False, allow_null=True)


class PriceComponentSerializer(serializers.Serializer):
    type = DimensionField()
    price = _decimal()
    vat = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True
    )
    step_size = serializers.IntegerField(min_value=0)


class RestrictionsSerializer(serializers.Serializer):
    start_time = serializers.RegexField(TIME_RE, required=False, allow_null=True)
    end_time = serializers.RegexField(TIME_RE, required=False, allow_null=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    min_kwh = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True
    )
    max_kwh = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True
    )
    min_current = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    max_current = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    min_power = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    max_power = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    min_duration = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    max_duration = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    day_of_week = serializers.ListField(child=serializers.ChoiceField(choices=domain.DAYS_OF_WEEK), required=False)
    reservation = serializers.ChoiceField(choices=domain.RESERVATION_TYPES, required=False, allow_null=True)


class ElementSerializer(serializers.Serializer):
    price_components = PriceComponentSerializer(many=True, allow_empty=False)
    restrictions = RestrictionsSerializer(required=False, allow_null=True)

    def validate(self, attrs):
        restrictions = attrs.get("restrictions") or {}
        if restrictions.get("reservation") and any(
            pc["type"] not in ("FLAT", "TIME") for pc in attrs["price_components"]
        ):
            raise serializers.ValidationError("A reservation element can only have FLAT and TIME price components.")
        return attrs


def _plain_json(value):
    """Stored as given, but JSONField cannot encode the Decimals our parser makes; percentages
    and amounts of an energy mix are informative, so JSON numbers (floats) are exact enough."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    return value


class EnergyMixField(serializers.JSONField):
    def to_internal_value(self, data):
        return super().to_internal_value(_plain_json(data))


class TariffBodySerializer(serializers.Serializer):
    """The fields OCPI and the EVzone API share."""

    country_code = serializers.RegexField(r"^[A-Z]{2}$", required=False, allow_blank=True)
    party_id = serializers.RegexField(r"^[A-Za-z0-9]{3}$", required=False, allow_blank=True)
    currency = serializers.CharField(min_length=3, max_length=3)
    type = TariffTypeField()
    tariff_alt_text = DisplayTextSerializer(many=True, required=False)
    tariff_alt_url = serializers.URLField(max_length=255, required=False, allow_null=True, allow_blank=True)
    min_price = PriceSerializer(required=False, allow_null=True)
    max_price = PriceSerializer(required=False, allow_null=True)
    elements = ElementSerializer(many=True, allow_empty=False)
    start_date_time = serializers.DateTimeField(required=False, allow_null=True)
    end_date_time = serializers.DateTimeField(required=False, allow_null=True)
    energy_mix = EnergyMixField(required=False, allow_null=True)

    def validate_currency(self, value: str) -> str:
        if value not in CURRENCIES:
            raise serializers.ValidationError(f"{value!r} is not an ISO 4217 currency code.")
        return value

    def validate_energy_mix(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("An OCPI EnergyMix object is expected.")
        return value

    def validate(self, attrs):
        start, end = attrs.get("start_date_time"), attrs.get("end_date_time")
        if start and end and end <= start:
            raise serializers.ValidationError({"end_date_time": "Must be after start_date_time."})
        return attrs


class OcpiTariffSerializer(TariffBodySerializer):
    id = serializers.CharField(max_length=36)
    last_updated = serializers.DateTimeField(required=False)


# --------------------------------------------------------------------------- export


def format_datetime(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "") + "Z"


def number(value: Decimal) -> Decimal:
    # normalize() drops the database's trailing zeros; quantize back to an integer exponent when
    # normalize() would write 5E+1, so the JSON renderer always prints plain digits.
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def _price(excl, incl, num) -> dict | None:
    if excl is None:
        return None
    price = {"excl_vat": num(excl)}
    if incl is not None:
        price["incl_vat"] = num(incl)
    return price


def _restrictions(r, num) -> dict:
    out: dict = {}
    for name in ("start_time", "end_time"):
        if getattr(r, name) is not None:
            out[name] = getattr(r, name).strftime("%H:%M")
    for name in ("start_date", "end_date"):
        if getattr(r, name) is not None:
            out[name] = getattr(r, name).isoformat()
    for name in RESTRICTION_NUMBERS:
        if getattr(r, name) is not None:
            out[name] = num(getattr(r, name))
    for name in ("min_duration", "max_duration"):
        if getattr(r, name) is not None:
            out[name] = getattr(r, name)
    if r.day_of_week:
        out["day_of_week"] = list(r.day_of_week)
    if r.reservation:
        out["reservation"] = r.reservation
    return out


def tariff_structure(t: Tariff, num=number) -> dict:
    """The OCPI fields of a stored tariff (without id/last_updated); `num` formats decimals.
    Expects elements, components, restrictions and alt texts prefetched (selectors do that)."""
    out: dict = {}
    if t.country_code:
        out["country_code"] = t.country_code
    if t.party_id:
        out["party_id"] = t.party_id
    out["currency"] = t.currency
    if t.type:
        out["type"] = t.type
    alt = [{"language": a.language, "text": a.text} for a in t.alt_texts.all()]
    if alt:
        out["tariff_alt_text"] = alt
    if t.tariff_alt_url:
        out["tariff_alt_url"] = t.tariff_alt_url
    for name in ("min_price", "max_price"):
        price = _price(getattr(t, f"{name}_excl_vat"), getattr(t, f"{name}_incl_vat"), num)
        if price:
            out[name] = price
    elements = []
    for element in t.elements.all():
        components = []
        for pc in element.price_components.all():
            component = {"type": pc.type, "price": num(pc.price)}
            if pc.vat is not None:
                component["vat"] = num(pc.vat)
            component["step_size"] = pc.step_size
            components.append(component)
        item: dict = {"price_components": components}
        restriction = getattr(element, "restrictions", None)
        if restriction is not None:
            item["restrictions"] = _restrictions(restriction, num)
        elements.append(item)
    out["elements"] = elements
    for name in ("start_date_time", "end_date_time"):
        if getattr(t, name):
            out[name] = format_datetime(getattr(t, name))
    if t.energy_mix is not None:
        out["energy_mix"] = t.energy_mix
    return out


def tariff_to_ocpi(t: Tariff) -> dict:
    body = tariff_structure(t)
    head = {k: body.pop(k) for k in ("country_code", "party_id") if k in body}
    return {**head, "id": t.ocpi_id, **body, "last_updated": format_datetime(t.last_updated)}


def tariff_to_domain(t: Tariff) -> domain.Tariff:
    data = tariff_structure(t, num=lambda d: d)
    idle = None
    if t.idle_fee_per_hour is not None:
        idle = domain.IdleFee(t.idle_fee_per_hour, t.idle_grace_minutes, t.idle_fee_vat)
    return domain.tariff_from_ocpi({**data, "id": t.ocpi_id}, idle_fee=idle)
