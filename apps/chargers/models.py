"""Sites and chargers of an operator (tenant schema).

Protocol-neutral: OCPP 1.6 and 2.x both land here. In 1.6 every connector is
its own EVSE (evse_id == connector_id); 2.x numbers connectors inside an EVSE.
"""

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.chargers import ocpi


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


class Location(models.Model):
    """A site, with everything an OCPI 2.2.1 Location object carries.

    The JSON fields hold OCPI-shaped data (Hours, Image, DisplayText, EnergyMix,
    PublishTokenType); apps.chargers.ocpi validates them in the services.
    """

    name = models.CharField(max_length=120)
    address = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=20, blank=True)
    # Alpha-2 like the organisation's country; OCPI wants alpha-3: see country_alpha3.
    country = models.CharField(max_length=2, default="DE", validators=[ocpi.validate_country])
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    time_zone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_timezone])
    parking_type = models.CharField(max_length=20, blank=True, choices=ocpi.choices(ocpi.PARKING_TYPES))
    facilities = models.JSONField(default=list, blank=True, help_text="OCPI Facility values.")
    opening_times = models.JSONField(
        null=True, blank=True, help_text="OCPI Hours; empty when unknown (drivers assume always open)."
    )
    charging_when_closed = models.BooleanField(default=True)
    images = models.JSONField(default=list, blank=True, help_text="OCPI Image objects.")
    directions = models.JSONField(default=list, blank=True, help_text="[{language, text}] for drivers.")
    energy_mix = models.JSONField(null=True, blank=True, help_text="OCPI EnergyMix.")
    # Unpublished locations stay out of OCPI (and roaming maps) unless a token listed
    # in publish_allowed_to asks; OCPI needs coordinates for a published one.
    publish = models.BooleanField(default=False)
    publish_allowed_to = models.JSONField(default=list, blank=True, help_text="OCPI PublishTokenType objects.")
    operator_name = models.CharField(max_length=100, blank=True)
    operator_website = models.URLField(max_length=255, blank=True)
    suboperator_name = models.CharField(max_length=100, blank=True)
    suboperator_website = models.URLField(max_length=255, blank=True)
    owner_name = models.CharField(max_length=100, blank=True)
    owner_website = models.URLField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def country_alpha3(self) -> str:
        return ocpi.country_alpha3(self.country)


class ProtocolVersion(models.TextChoices):
    OCPP16 = "ocpp1.6", "OCPP 1.6J"
    OCPP201 = "ocpp2.0.1", "OCPP 2.0.1"
    OCPP21 = "ocpp2.1", "OCPP 2.1"


# 2.0.1 and 2.1 share one message set (2.1 adds messages); 1.6 is a different protocol.
OCPP2_VERSIONS = (ProtocolVersion.OCPP201, ProtocolVersion.OCPP21)


class RegistrationStatus(models.TextChoices):
    ACCEPTED = "Accepted", "Accepted"
    PENDING = "Pending", "Pending"
    REJECTED = "Rejected", "Rejected"


class ChargePoint(models.Model):
    class SecurityProfile(models.IntegerChoices):
        NONE = 0, "0 – no authentication"
        BASIC = 1, "1 – HTTP Basic"
        BASIC_TLS = 2, "2 – TLS + HTTP Basic"
        CLIENT_CERT = 3, "3 – TLS client certificate"

    # OCPP 1.6 chargeBoxIdentity is CiString 20 in messages, but the URL path is
    # the identity and 2.x allows 48; keep room for both.
    identity = models.CharField(max_length=48, unique=True)
    name = models.CharField(max_length=120, blank=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="charge_points"
    )
    protocol_version = models.CharField(
        max_length=16,
        choices=ProtocolVersion.choices,
        default=ProtocolVersion.OCPP16,
        help_text="Negotiated at the last connection.",
    )
    security_profile = models.PositiveSmallIntegerField(choices=SecurityProfile.choices, default=SecurityProfile.BASIC)
    password_hash = models.CharField(max_length=200, blank=True)
    registration_status = models.CharField(
        max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.ACCEPTED
    )

    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=50, blank=True)
    charge_box_serial_number = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    iccid = models.CharField(max_length=20, blank=True)
    imsi = models.CharField(max_length=20, blank=True)
    meter_type = models.CharField(max_length=25, blank=True)
    meter_serial_number = models.CharField(max_length=25, blank=True)
    # Null: use the organisation's default (csms.CsmsSettings).
    heartbeat_interval = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(10)])

    online = models.BooleanField(default=False)
    last_seen = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)
    # Which websocket holds the charger now: a replaced connection must not mark it offline.
    connection_id = models.CharField(max_length=40, blank=True)
    local_list_version = models.IntegerField(
        null=True, blank=True, help_text="Local authorisation list version the charger last reported."
    )
    firmware_status = models.CharField(max_length=40, blank=True)
    diagnostics_status = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identity"]
        indexes = [models.Index(fields=["online", "last_seen"], name="cp_online_seen")]

    def __str__(self) -> str:
        return self.identity

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def is_ocpp2(self) -> bool:
        """The one answer to "does this charger speak OCPP 2.x (2.0.1 or 2.1)?"."""
        return self.protocol_version in OCPP2_VERSIONS

    @property
    def is_ocpp21(self) -> bool:
        return self.protocol_version == ProtocolVersion.OCPP21


class Connector(models.Model):
    """Current state of a connector (connector 0 / evse 0 is the charger itself)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="connectors")
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=30, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    info = models.CharField(max_length=50, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    # Physical attributes (OCPI Connector). Declared by the operator, never by
    # StatusNotification, so they survive status updates; blank until declared.
    standard = models.CharField(max_length=30, blank=True, choices=ocpi.choices(ocpi.CONNECTOR_TYPES))
    format = models.CharField(max_length=10, blank=True, choices=ocpi.choices(ocpi.CONNECTOR_FORMATS))
    power_type = models.CharField(max_length=20, blank=True, choices=ocpi.choices(ocpi.POWER_TYPES))
    max_voltage = models.PositiveIntegerField(null=True, blank=True, help_text="V")
    max_amperage = models.PositiveIntegerField(null=True, blank=True, help_text="A")
    max_electric_power = models.PositiveIntegerField(null=True, blank=True, help_text="W")
    # EVSE-level (OCPI EVSE), kept equal on every connector of the EVSE by the services.
    evse_uid = models.CharField(max_length=36, blank=True, help_text="OCPI EVSE uid.")
    ocpi_evse_id = models.CharField(
        max_length=48, blank=True, help_text="eMI3 EVSE ID, e.g. DE*EVZ*E123*1 (OCPI EVSE.evse_id)."
    )
    physical_reference = models.CharField(max_length=16, blank=True, help_text="Label printed on the EVSE.")

    class Meta:
        ordering = ["charge_point", "evse_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "evse_id", "connector_id"], name="connector_unique")
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.evse_id}/{self.connector_id}"


class ConnectorStatusHistory(models.Model):
    """Every StatusNotification, in the order the charger says things happened."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="status_history")
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=30, blank=True)
    vendor_error_code = models.CharField(max_length=50, blank=True)
    vendor_id = models.CharField(max_length=255, blank=True)
    info = models.CharField(max_length=50, blank=True)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "-timestamp"], name="status_hist_cp_ts")]


class ConfigurationKey(models.Model):
    """A charger configuration key as last read (GetConfiguration) or changed."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="configuration")
    key = models.CharField(max_length=50)
    value = models.TextField(blank=True)
    readonly = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["charge_point", "key"]
        constraints = [models.UniqueConstraint(fields=["charge_point", "key"], name="config_key_unique")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class ChargerEvent(models.Model):
    """Notifications a charger sends that are history rather than state: security events,
    firmware / diagnostics / log upload progress, data transfers, certificate requests."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, help_text="The OCPP action, e.g. SecurityEventNotification.")
    status = models.CharField(max_length=60, blank=True, help_text="Status or event type.")
    request_id = models.IntegerField(null=True, blank=True)
    info = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["charge_point", "kind", "-timestamp"], name="cp_event_kind_ts")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


class ChargerGroup(models.Model):
    """A named set of chargers (e.g. "Depot fast chargers") that tariffs can be assigned to."""

    name = models.CharField(max_length=120, unique=True)
    charge_points = models.ManyToManyField(ChargePoint, blank=True, related_name="groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
