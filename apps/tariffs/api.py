"""/api/v1/tariffs/: CRUD, OCPI 2.2.1 import/export and a price estimate. Staff read, admins write."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from apps.accounts.policy import crud
from apps.tariffs import selectors, services
from apps.tariffs.engine import MAX_SESSION, PricingError, Result, to_decimal
from apps.tariffs.ocpi import OcpiTariffSerializer, TariffBodySerializer, format_datetime, number, tariff_structure
from apps.tariffs.ocpi import tariff_to_ocpi as ocpi_export

OPTIONAL_KEYS = (
    "country_code",
    "party_id",
    "type",
    "tariff_alt_url",
    "min_price",
    "max_price",
    "start_date_time",
    "end_date_time",
    "energy_mix",
)


class DecimalJSONParser(JSONParser):
    """JSON with numbers read as Decimal: 0.1 must stay 0.1, not 0.1000000000000000055."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc


def _text(value: Decimal) -> str:
    return format(number(value), "f")


class IdleFeeSerializer(serializers.Serializer):
    price_per_hour = serializers.DecimalField(max_digits=16, decimal_places=6, min_value=Decimal(0))
    vat = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True
    )
    grace_minutes = serializers.IntegerField(min_value=0, default=0)


class TariffSerializer(TariffBodySerializer):
    """An EVzone tariff: the OCPI fields (decimals as strings) plus name and idle fee."""

    id = serializers.IntegerField(read_only=True)
    ocpi_id = serializers.CharField(max_length=36, required=False)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    idle_fee = IdleFeeSerializer(required=False, allow_null=True)
    last_updated = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, t):
        body = {key: None for key in OPTIONAL_KEYS} | {"tariff_alt_text": []} | tariff_structure(t, num=_text)
        idle = None
        if t.idle_fee_per_hour is not None:
            idle = {
                "price_per_hour": _text(t.idle_fee_per_hour),
                "vat": None if t.idle_fee_vat is None else _text(t.idle_fee_vat),
                "grace_minutes": t.idle_grace_minutes,
            }
        return {
            "id": t.pk,
            "ocpi_id": t.ocpi_id,
            "name": t.name,
            **body,
            "idle_fee": idle,
            "last_updated": format_datetime(t.last_updated),
            "created_at": format_datetime(t.created_at),
        }


class EstimateSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    energy_kwh = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal(0))
    max_power_kw = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal(0), required=False, allow_null=True
    )
    parking_minutes = serializers.IntegerField(min_value=0, default=0)
    time_zone = serializers.CharField(required=False, allow_blank=True, help_text="Default: the organisation's.")

    def validate_time_zone(self, value: str) -> str:
        if value and value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone.")
        return value

    def validate(self, attrs):
        duration = attrs["end"] - attrs["start"]
        if duration < dt.timedelta(0):
            raise serializers.ValidationError({"end": "Must not be before start."})
        if duration > MAX_SESSION:
            raise serializers.ValidationError({"end": "Sessions longer than 31 days cannot be estimated."})
        if dt.timedelta(minutes=attrs["parking_minutes"]) > duration:
            raise serializers.ValidationError({"parking_minutes": "Longer than the session."})
        return attrs


class EstimateResponseSerializer(serializers.Serializer):  # documentation only
    currency = serializers.CharField()
    total_excl_vat = serializers.DecimalField(max_digits=20, decimal_places=3)
    total_incl_vat = serializers.DecimalField(max_digits=20, decimal_places=3)
    periods = serializers.ListField(child=serializers.DictField())


def result_to_dict(result: Result, time_zone: str) -> dict:
    def text(value) -> str:
        return format(to_decimal(value, 12), "f")

    periods = []
    for p in result.periods:
        dimensions = []
        for ln in p.lines:
            dimensions.append(
                {
                    "type": ln.type,
                    "volume": text(ln.volume),
                    "billed_volume": text(ln.billed_volume),
                    "price": None if ln.component is None else _text(ln.component.price),
                    "vat": None if ln.component is None or ln.component.vat is None else _text(ln.component.vat),
                    "excl_vat": text(ln.excl_vat),
                    "incl_vat": text(ln.incl_vat),
                    "tariff_element": ln.element_index,
                    "source": ln.source,
                }
            )
        periods.append(
            {
                "start_date_time": format_datetime(p.start),
                "end_date_time": format_datetime(p.end),
                "kind": p.kind,
                "tariff_id": result.tariff_id,
                "dimensions": dimensions,
            }
        )
    return {
        "currency": result.currency,
        "total_excl_vat": str(result.total_excl_vat),
        "total_incl_vat": str(result.total_incl_vat),
        "time_zone": time_zone,
        "total_energy_kwh": text(result.total_volume("ENERGY")),
        "total_time_hours": text(result.total_volume("TIME")),
        "total_parking_time_hours": text(result.total_volume("PARKING_TIME")),
        "min_price_applied": result.min_price_applied,
        "max_price_applied": result.max_price_applied,
        "warnings": result.warnings,
        "periods": periods,
    }


class TariffViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Tariffs of this organisation. Elements are replaced as a whole on update (their order matters)."""

    serializer_class = TariffSerializer
    parser_classes = [DecimalJSONParser]
    filterset_fields = ("currency", "type")
    search_fields = ("name", "ocpi_id")
    ordering_fields = ("name", "last_updated", "created_at")

    def get_queryset(self):
        return selectors.tariff_list()

    policy = crud(
        "tariffs.view", "tariffs.change", import_ocpi="tariffs.change", ocpi="tariffs.view", estimate="tariffs.estimate"
    )

    def update(self, request, *args, **kwargs):
        tariff = self.get_object()
        data = request.data
        if kwargs.get("partial"):
            if not isinstance(data, dict):
                raise serializers.ValidationError({"non_field_errors": ["A JSON object is expected."]})
            # PATCH overlays the given keys on the current tariff, then validates the whole.
            current = TariffSerializer(tariff).data
            data = {k: v for k, v in current.items() if v is not None} | dict(request.data)
        serializer = self.get_serializer(tariff, data=data)
        serializer.is_valid(raise_exception=True)
        tariff = services.tariff_update(tariff=tariff, data=serializer.validated_data)
        return Response(TariffSerializer(self.get_queryset().get(pk=tariff.pk)).data)

    def perform_destroy(self, instance):
        services.tariff_delete(tariff=instance)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tariff = services.tariff_create(data=serializer.validated_data)
        return Response(TariffSerializer(self.get_queryset().get(pk=tariff.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OcpiTariffSerializer, responses={201: TariffSerializer})
    @action(detail=False, methods=["post"], url_path="import-ocpi", serializer_class=OcpiTariffSerializer)
    def import_ocpi(self, request):
        """Create a tariff from an OCPI 2.2.1 Tariff object (its `id` becomes `ocpi_id`)."""
        serializer = OcpiTariffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tariff = services.tariff_import_ocpi(data=serializer.validated_data)
        return Response(TariffSerializer(self.get_queryset().get(pk=tariff.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def ocpi(self, request, pk=None):
        """This tariff as an OCPI 2.2.1 Tariff object."""
        return Response(ocpi_export(self.get_object()))

    @extend_schema(request=EstimateSerializer, responses={200: EstimateResponseSerializer})
    @action(detail=True, methods=["post"], serializer_class=EstimateSerializer)
    def estimate(self, request, pk=None):
        """Price a planned session; energy flows evenly until `parking_minutes` before `end`."""
        tariff = self.get_object()
        serializer = EstimateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        time_zone = data.get("time_zone") or request.tenant.timezone
        try:
            result = selectors.tariff_estimate(
                tariff=tariff,
                start=data["start"],
                end=data["end"],
                energy_kwh=data["energy_kwh"],
                max_power_kw=data.get("max_power_kw"),
                parking_minutes=data["parking_minutes"],
                time_zone=time_zone,
            )
        except PricingError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(result_to_dict(result, time_zone))
