"""Smart charging (OCPP 2.x block K) and firmware management (block L), tenant schema.

Profiles, limits and schedules are kept in the wire form (camelCase JSON, as the
station sends or receives them) next to the columns the portal filters on, so OCPP
2.1 additions (V2X periods, dynamic updates, price schedules) survive untouched.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.chargers.models import ChargePoint

PURPOSES = (
    ("ChargingStationMaxProfile", "Station maximum"),
    ("TxDefaultProfile", "Default for transactions"),
    ("TxProfile", "One transaction"),
    ("ChargingStationExternalConstraints", "External constraints"),
    # OCPP 2.1
    ("PriorityCharging", "Priority charging (2.1)"),
    ("LocalGeneration", "Local generation (2.1)"),
    # OCPP 1.6's name for the station maximum
    ("ChargePointMaxProfile", "Charge point maximum (1.6)"),
)


class ChargingProfile(models.Model):
    """A charging profile on a charger: one EVzone set, or one the charger reported."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent, outcome unknown"
        ACCEPTED = "accepted", "Installed"
        REJECTED = "rejected", "Rejected by the charger"
        CLEARED = "cleared", "Cleared"

    class Source(models.TextChoices):
        OPERATOR = "operator", "EVzone"
        STATION = "station", "Reported by the charger"
        EXTERNAL = "external", "External (EMS / grid operator)"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="charging_profiles")
    evse_id = models.PositiveIntegerField(default=0, help_text="0: the whole station (or every EVSE for TxDefault).")
    profile_id = models.IntegerField(help_text="ChargingProfile.id, unique within the charger (2.1 allows negatives).")
    stack_level = models.PositiveIntegerField(default=0)
    purpose = models.CharField(max_length=40, choices=PURPOSES)
    kind = models.CharField(max_length=10, help_text="Absolute, Recurring or Relative.")
    recurrency_kind = models.CharField(max_length=10, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    charging_rate_unit = models.CharField(max_length=1, blank=True, help_text="W or A (of the first schedule).")
    schedules = models.JSONField(default=list, help_text="chargingSchedule[] as on the wire.")
    # The whole profile as on the wire (resent as is), and what OCPP 2.1 adds to 2.0.1.
    profile = models.JSONField(default=dict)
    extra = models.JSONField(default=dict, blank=True, help_text="Fields beyond OCPP 2.0.1 (2.1 additions).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OPERATOR)
    charging_limit_source = models.CharField(max_length=20, blank=True, help_text="CSO, EMS, SO, Other (reports).")
    status_info = models.JSONField(null=True, blank=True, help_text="statusInfo of the charger's last answer.")
    protocol = models.CharField(max_length=16, blank=True, help_text="OCPP version the profile was set in.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    reported_at = models.DateTimeField(null=True, blank=True, help_text="Last seen in a ReportChargingProfiles.")
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["charge_point", "evse_id", "purpose", "-stack_level", "profile_id"]
        constraints = [
            # The charger replaces a profile with the same id (K01.FR.05): one row per id.
            models.UniqueConstraint(fields=["charge_point", "profile_id"], name="sc_profile_id_per_cp"),
        ]
        indexes = [models.Index(fields=["charge_point", "status"], name="sc_profile_cp_status")]

    def __str__(self) -> str:
        return f"{self.charge_point_id}: profile {self.profile_id} ({self.purpose})"

    @property
    def periods(self) -> list[dict]:
        return (self.schedules[0] if self.schedules else {}).get("chargingSchedulePeriod", [])


class ChargingProfileReport(models.Model):
    """One GetChargingProfiles request and the ReportChargingProfiles parts it brought."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        RECEIVING = "receiving", "Receiving"
        COMPLETE = "complete", "Complete"
        NO_PROFILES = "no_profiles", "No profiles"
        FAILED = "failed", "Not answered"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="profile_reports")
    request_id = models.IntegerField()
    evse_id = models.IntegerField(null=True, blank=True)
    criterion = models.JSONField(default=dict, blank=True, help_text="chargingProfile criterion as sent.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    parts = models.PositiveIntegerField(default=0)
    profiles = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["charge_point", "request_id"], name="sc_report_req_per_cp")]


class ChargingLimit(models.Model):
    """An external charging limit the station told us about (NotifyChargingLimit), until
    it reports it cleared (ClearedChargingLimit)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="charging_limits")
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=20, help_text="chargingLimitSource: EMS, Other, SO, CSO.")
    is_grid_critical = models.BooleanField(null=True, blank=True)
    schedules = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "source", "cleared_at"], name="sc_limit_cp_src")]


class EVChargingNeeds(models.Model):
    """What an EV asked for over ISO 15118 (NotifyEVChargingNeeds), and the schedule it
    then chose (NotifyEVChargingSchedule)."""

    class Kind(models.TextChoices):
        NEEDS = "needs", "Charging needs"
        SCHEDULE = "schedule", "EV's schedule"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="ev_charging_needs")
    evse_id = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NEEDS)
    requested_energy_transfer = models.CharField(max_length=30, blank=True)
    departure_time = models.DateTimeField(null=True, blank=True)
    max_schedule_tuples = models.PositiveIntegerField(null=True, blank=True)
    time_base = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, help_text="chargingNeeds or chargingSchedule as on the wire.")
    answer = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "evse_id", "-received_at"], name="sc_needs_cp_evse")]


class CompositeSchedule(models.Model):
    """The charger's answer to GetCompositeSchedule (what it will actually allow)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="composite_schedules")
    evse_id = models.PositiveIntegerField()
    duration = models.PositiveIntegerField()
    charging_rate_unit = models.CharField(max_length=1, blank=True)
    status = models.CharField(max_length=20)
    schedule = models.JSONField(null=True, blank=True, help_text="CompositeScheduleType as on the wire.")
    status_info = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]


# --------------------------------------------------------------------------- firmware


class FirmwareCampaign(models.Model):
    """One firmware image rolled out to many chargers."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=120)
    location = models.CharField(max_length=512, help_text="Firmware URL the chargers download.")
    retrieve_at = models.DateTimeField(help_text="When the chargers download it (retrieveDateTime).")
    install_at = models.DateTimeField(null=True, blank=True)
    signing_certificate = models.TextField(blank=True, help_text="PEM; signed firmware (OCPP 2.x).")
    signature = models.CharField(max_length=800, blank=True, help_text="Base64 signature of the firmware.")
    retries = models.PositiveIntegerField(null=True, blank=True)
    retry_interval = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class FirmwareUpdate(models.Model):
    """One UpdateFirmware to one charger and the FirmwareStatusNotifications it brought."""

    class Answer(models.TextChoices):
        PENDING = "", "Not sent yet"
        ACCEPTED = "Accepted", "Accepted"
        ACCEPTED_CANCELED = "AcceptedCanceled", "Accepted (previous update cancelled)"
        REJECTED = "Rejected", "Rejected"
        INVALID_CERTIFICATE = "InvalidCertificate", "Invalid certificate"
        REVOKED_CERTIFICATE = "RevokedCertificate", "Revoked certificate"
        OFFLINE = "offline", "Charger offline"
        TIMEOUT = "timeout", "No answer"
        ERROR = "error", "Error answer"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="firmware_updates")
    campaign = models.ForeignKey(
        FirmwareCampaign, null=True, blank=True, on_delete=models.CASCADE, related_name="updates"
    )
    # 2.x requestId; null for OCPP 1.6 (its FirmwareStatusNotification carries none).
    request_id = models.IntegerField(null=True, blank=True)
    protocol = models.CharField(max_length=16, blank=True)
    location = models.CharField(max_length=512, blank=True)
    retrieve_at = models.DateTimeField(null=True, blank=True)
    install_at = models.DateTimeField(null=True, blank=True)
    signed = models.BooleanField(default=False)
    signing_certificate = models.TextField(blank=True)
    signature = models.CharField(max_length=800, blank=True)
    retries = models.PositiveIntegerField(null=True, blank=True)
    retry_interval = models.PositiveIntegerField(null=True, blank=True)
    answer = models.CharField(max_length=20, blank=True, choices=Answer.choices)
    answer_info = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=30, blank=True, help_text="Last FirmwareStatusNotification status.")
    timeline = models.JSONField(default=list, help_text="[{status, at}] in arrival order.")
    command = models.ForeignKey("csms.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "request_id"], name="fw_request_per_cp"),
            # A campaign reaches a charger once.
            models.UniqueConstraint(fields=["campaign", "charge_point"], name="fw_campaign_cp"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}: firmware #{self.request_id} {self.status or self.answer}"


class FirmwarePublication(models.Model):
    """PublishFirmware to a local controller (L03/L04): it downloads an image and serves it
    to the stations behind it."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="firmware_publications")
    request_id = models.IntegerField()
    location = models.CharField(max_length=2000)
    checksum = models.CharField(max_length=32, help_text="MD5 of the image, 32 hex digits.")
    answer = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=30, blank=True, help_text="Last PublishFirmwareStatusNotification status.")
    published_locations = models.JSONField(default=list, blank=True, help_text="URIs the controller serves it at.")
    timeline = models.JSONField(default=list)
    unpublished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["charge_point", "request_id"], name="fw_pub_req_per_cp")]
