from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from apps.accounts.policy import crud
from apps.chargers import services
from apps.chargers.models import ChargePoint, Connector, Location
from apps.chargers.passwords import MAX_LENGTH, MIN_LENGTH
from apps.chargers.services import LOCATION_FIELDS


class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = (
            "evse_id",
            "connector_id",
            "status",
            "error_code",
            "vendor_error_code",
            "vendor_id",
            "info",
            "status_at",
            "standard",
            "format",
            "power_type",
            "max_voltage",
            "max_amperage",
            "max_electric_power",
            "evse_uid",
            "ocpi_evse_id",
            "physical_reference",
        )
        # Declared through the portal, imports or connector_declare; StatusNotification owns the rest.
        read_only_fields = fields


class ChargePointSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        style={"input_type": "password"},
        help_text="Basic auth password (security profiles 1 and 2). Write-only.",
    )
    has_password = serializers.BooleanField(read_only=True)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = ChargePoint
        fields = (
            "identity",
            "name",
            "protocol_version",
            "security_profile",
            "password",
            "has_password",
            "registration_status",
            "vendor",
            "model",
            "serial_number",
            "charge_box_serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "meter_type",
            "meter_serial_number",
            "heartbeat_interval",
            "location",
            "connectors",
            "online",
            "last_seen",
            "connected_at",
            "last_boot_at",
            "firmware_status",
            "diagnostics_status",
            "local_list_version",
            "created_at",
        )
        read_only_fields = (
            "protocol_version",
            "vendor",
            "model",
            "serial_number",
            "charge_box_serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "meter_type",
            "meter_serial_number",
            "online",
            "last_seen",
            "connected_at",
            "last_boot_at",
            "firmware_status",
            "diagnostics_status",
            "local_list_version",
            "created_at",
        )


class ChargePointUpdateSerializer(ChargePointSerializer):
    class Meta(ChargePointSerializer.Meta):
        read_only_fields = ("identity", *ChargePointSerializer.Meta.read_only_fields)


class ChargePointFilter(filters.FilterSet):
    class Meta:
        model = ChargePoint
        fields = {
            "online": ["exact"],
            "registration_status": ["exact"],
            "location": ["exact"],
            "protocol_version": ["exact"],
            "last_seen": ["gte", "lte"],
        }


class ChargePointViewSet(viewsets.ModelViewSet):
    """Chargers of this organisation, addressed by OCPP identity."""

    queryset = ChargePoint.objects.prefetch_related("connectors").order_by("identity")
    lookup_field = "identity"
    lookup_value_regex = "[^/]+"
    filterset_class = ChargePointFilter
    search_fields = ("identity", "name", "vendor", "model", "serial_number")
    ordering_fields = ("identity", "last_seen", "created_at")

    policy = crud("chargers.view", "chargers.change")

    def get_serializer_class(self):
        return ChargePointUpdateSerializer if self.action in ("update", "partial_update") else ChargePointSerializer

    def perform_create(self, serializer):
        serializer.instance = services.charge_point_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.charge_point_update(
            charge_point=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.charge_point_delete(charge_point=instance)


class LocationSerializer(serializers.ModelSerializer):
    """Every OCPI 2.2.1 Location field; the services validate the JSON-shaped ones."""

    country_alpha3 = serializers.CharField(read_only=True, help_text="ISO 3166-1 alpha-3, as OCPI sends it.")
    # JSON fields arrive as any JSON value: the service, not the serializer, checks their shape
    # so the API, the portal and imports give the same messages.
    facilities = serializers.JSONField(required=False)
    opening_times = serializers.JSONField(required=False, allow_null=True)
    images = serializers.JSONField(required=False)
    directions = serializers.JSONField(required=False)
    energy_mix = serializers.JSONField(required=False, allow_null=True)
    publish_allowed_to = serializers.JSONField(required=False)
    parking_type = serializers.CharField(required=False, allow_blank=True, help_text="OCPI ParkingType.")

    class Meta:
        model = Location
        fields = ("id", *LOCATION_FIELDS, "country_alpha3", "created_at", "last_updated")
        read_only_fields = ("id", "created_at", "last_updated")
        # Model validators run in the service (country, time zone); keep a single source.
        extra_kwargs = {"country": {"validators": []}, "time_zone": {"validators": []}}


class LocationViewSet(viewsets.ModelViewSet):
    """Sites chargers belong to, with the OCPI 2.2.1 Location fields."""

    queryset = Location.objects.order_by("name")
    serializer_class = LocationSerializer
    search_fields = ("name", "address", "city", "postal_code")
    filterset_fields = ("country", "city", "publish", "parking_type")
    ordering_fields = ("name", "city", "last_updated")

    policy = crud("locations.view", "locations.change")

    def perform_create(self, serializer):
        serializer.instance = services.location_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.location_update(location=serializer.instance, **serializer.validated_data)
