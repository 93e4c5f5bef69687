"""Device model (OCPP 2.x) (tenant schema).

A 2.x charger describes itself as components (ChargingStation, EVSE 1, Connector 1/1,
OCPPCommCtrlr, ...) carrying variables, each with up to four attributes (Actual, Target,
MinSet, MaxSet) and one set of characteristics. EVzone keeps the charger's own report
(NotifyReport) and whatever Get/SetVariables answers told us since.

Names are case-insensitive in OCPP (Part 2, ComponentType/VariableType); they are stored as
the charger spelled them and matched case-insensitively.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.chargers.models import ChargePoint


class Component(models.Model):
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="dm_components")
    name = models.CharField(max_length=50)
    instance = models.CharField(max_length=50, blank=True)
    evse_id = models.IntegerField(null=True, blank=True)
    connector_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ("name", "instance", "evse_id", "connector_id")
        constraints = [
            models.UniqueConstraint(
                fields=("charge_point", "name", "instance", "evse_id", "connector_id"),
                name="dm_component_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        text = self.name + (f"[{self.instance}]" if self.instance else "")
        if self.evse_id is not None:
            text += f"@{self.evse_id}" + (f":{self.connector_id}" if self.connector_id is not None else "")
        return text

    def wire(self) -> dict:
        """ComponentType as on the wire (camelCase)."""
        out: dict = {"name": self.name}
        if self.instance:
            out["instance"] = self.instance
        if self.evse_id is not None:
            out["evse"] = {"id": self.evse_id}
            if self.connector_id is not None:
                out["evse"]["connectorId"] = self.connector_id
        return out


class Variable(models.Model):
    """A variable and its characteristics (VariableCharacteristicsType, fixed per variable)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=50)
    instance = models.CharField(max_length=50, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    data_type = models.CharField(max_length=20, blank=True)
    min_limit = models.FloatField(null=True, blank=True)
    max_limit = models.FloatField(null=True, blank=True)
    max_elements = models.IntegerField(null=True, blank=True, help_text="OCPP 2.1")
    values_list = models.TextField(blank=True)
    supports_monitoring = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name", "instance")
        constraints = [models.UniqueConstraint(fields=("component", "name", "instance"), name="dm_variable_unique")]

    def __str__(self) -> str:
        return self.name + (f"[{self.instance}]" if self.instance else "")

    def wire(self) -> dict:
        out: dict = {"name": self.name}
        if self.instance:
            out["instance"] = self.instance
        return out


class VariableAttribute(models.Model):
    class Type(models.TextChoices):
        ACTUAL = "Actual"
        TARGET = "Target"
        MIN_SET = "MinSet"
        MAX_SET = "MaxSet"

    class Mutability(models.TextChoices):
        READ_ONLY = "ReadOnly"
        WRITE_ONLY = "WriteOnly"
        READ_WRITE = "ReadWrite"

    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="attributes")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.ACTUAL)
    # None: not reported (WriteOnly attributes have no value on the wire).
    value = models.TextField(null=True, blank=True)
    # Blank: not known (learnt from GetVariables only, which does not tell).
    mutability = models.CharField(max_length=10, choices=Mutability.choices, blank=True)
    persistent = models.BooleanField(default=False)
    constant = models.BooleanField(default=False)
    # The last SetVariables EVzone sent for this attribute and the charger's verdict.
    last_set_value = models.TextField(null=True, blank=True)
    last_set_status = models.CharField(max_length=30, blank=True)
    last_set_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("type",)
        constraints = [models.UniqueConstraint(fields=("variable", "type"), name="dm_attribute_unique")]

    def __str__(self) -> str:
        return f"{self.variable} {self.type}={self.value}"


class DeviceReport(models.Model):
    """One GetBaseReport / GetReport request and the NotifyReport parts it produced."""

    class Status(models.TextChoices):
        REQUESTED = "Requested"  # sent, no answer yet
        ACCEPTED = "Accepted"  # the charger will send NotifyReport parts
        RECEIVING = "Receiving"
        COMPLETE = "Complete"
        REJECTED = "Rejected"
        NOT_SUPPORTED = "NotSupported"
        EMPTY = "EmptyResultSet"
        FAILED = "Failed"  # no answer, offline, CALLERROR

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="dm_reports")
    request_id = models.IntegerField()
    # FullInventory / ConfigurationInventory / SummaryInventory, or "" for GetReport (and for
    # reports we did not ask for): only a FullInventory replaces the stored model.
    report_base = models.CharField(max_length=30, blank=True)
    criteria = models.JSONField(default=dict, blank=True, help_text="GetReport componentVariable / componentCriteria.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    status_info = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    generated_at = models.DateTimeField(null=True, blank=True)
    last_part_at = models.DateTimeField(null=True, blank=True)
    # seqNo of the part with tbc=false: the report is complete once 0..last_seq_no are in.
    last_seq_no = models.IntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0, help_text="reportData entries received.")

    class Meta:
        ordering = ("-requested_at",)
        constraints = [models.UniqueConstraint(fields=("charge_point", "request_id"), name="dm_report_unique")]

    def __str__(self) -> str:
        return f"{self.report_base or 'GetReport'} #{self.request_id} ({self.status})"


class ReportPart(models.Model):
    report = models.ForeignKey(DeviceReport, on_delete=models.CASCADE, related_name="parts")
    seq_no = models.IntegerField()
    tbc = models.BooleanField(default=False)
    generated_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    report_data = models.JSONField(default=list)

    class Meta:
        ordering = ("seq_no",)
        constraints = [models.UniqueConstraint(fields=("report", "seq_no"), name="dm_report_part_unique")]


class VendorTemplate(models.Model):
    """Configuration EVzone sets on chargers of one make while they are Pending (B02):
    SetVariables entries and, optionally, a network connection profile."""

    name = models.CharField(max_length=120, unique=True)
    enabled = models.BooleanField(default=True)
    vendor = models.CharField(max_length=50, help_text="BootNotification vendorName (case-insensitive).")
    model = models.CharField(max_length=50, blank=True, help_text="Empty: every model of the vendor.")
    firmware_prefix = models.CharField(max_length=50, blank=True, help_text="Empty: any firmware version.")
    # SetVariableData entries as on the wire: [{"component": {...}, "variable": {...}, "attributeValue": "..."}].
    variables = models.JSONField(default=list, blank=True)
    # {"configurationSlot": 1, "connectionData": {...}} or null.
    network_profile = models.JSONField(null=True, blank=True)
    apply_on_accepted_boot = models.BooleanField(
        default=False, help_text="Also apply at an Accepted boot of a charger that never got this template."
    )
    auto_accept = models.BooleanField(
        default=True, help_text="Accept a Pending charger once it accepted every setting, and ask it to boot again."
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("vendor", "model", "name")

    def __str__(self) -> str:
        return self.name


class TemplateApplication(models.Model):
    """One run of a vendor template on a charger, with the charger's answer per setting."""

    class Status(models.TextChoices):
        QUEUED = "Queued"
        RUNNING = "Running"
        APPLIED = "Applied"  # every setting accepted
        PARTIAL = "Partial"  # some settings refused
        FAILED = "Failed"  # offline, no answer

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="dm_template_runs")
    template = models.ForeignKey(VendorTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    template_name = models.CharField(max_length=120)
    template_revision = models.PositiveIntegerField(default=1)
    trigger = models.CharField(max_length=20, help_text="pending_boot, accepted_boot or manual.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # [{"component", "variable", "attributeType", "value", "status", "info"}]
    results = models.JSONField(default=list, blank=True)
    network_profile_status = models.CharField(max_length=30, blank=True)
    accepted_charger = models.BooleanField(default=False)
    follow_up = models.CharField(max_length=60, blank=True, help_text="TriggerMessage / Reset sent afterwards.")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.template_name} on {self.charge_point_id}: {self.status}"


class PasswordRotation(models.Model):
    """A BasicAuthPassword change (A01). Only hashes are kept."""

    class Status(models.TextChoices):
        SENT = "Sent"
        ACCEPTED = "Accepted"  # the new password is the charger's password now
        REJECTED = "Rejected"
        UNCONFIRMED = "Unconfirmed"  # no answer: we do not know which password the charger has

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="dm_password_rotations")
    new_hash = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    answer = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)


class SecurityProfileUpgrade(models.Model):
    """A05: SetNetworkProfile with a higher profile, NetworkConfigurationPriority, Reset.
    The charger row's profile is raised when the operator confirms the charger is back
    on the new profile (the CSMS sees the transport only at the handshake)."""

    class Status(models.TextChoices):
        SENT = "Sent"  # commands accepted, waiting for the charger to come back
        REFUSED = "Refused"  # a step was refused or failed
        CONFIRMED = "Confirmed"  # stored profile raised
        CANCELLED = "Cancelled"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="dm_profile_upgrades")
    from_profile = models.PositiveSmallIntegerField()
    target_profile = models.PositiveSmallIntegerField()
    configuration_slot = models.IntegerField()
    steps = models.JSONField(default=list, blank=True)  # [{"action", "status", "answer"}]
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
