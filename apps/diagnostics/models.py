"""Diagnostics, monitoring and display messages (tenant schema): OCPP 2.x blocks N and O,
plus the 1.6 GetDiagnostics upload that shares the log upload target.

Components and variables are kept by name (component name/instance, EVSE, variable
name/instance), as on the wire: the device model lives in another app, and a station may
report a monitor or an event for a component that app has not seen yet.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.chargers.models import ChargePoint


class DiagnosticsSettings(models.Model):
    """One row per organisation (pk=1)."""

    # OCPP severities: 0 Danger, 1 Hardware failure, 2 System failure, 3 Critical, 4 Error,
    # 5 Alert, 6 Warning, 7 Notice, 8 Informational, 9 Debug. 0-3 need someone now.
    alert_max_severity = models.PositiveSmallIntegerField(
        default=3, help_text="Events with this severity or lower (more severe) raise an alert."
    )


class LogRequest(models.Model):
    """A log upload asked of a charger (2.x GetLog, 1.6 GetDiagnostics), its upload target
    on our own domain, the station's progress and the file it sent."""

    class LogType(models.TextChoices):
        DIAGNOSTICS = "DiagnosticsLog", "Diagnostics log"
        SECURITY = "SecurityLog", "Security log"
        DIAGNOSTICS_16 = "GetDiagnostics", "Diagnostics (OCPP 1.6)"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="log_requests")
    log_type = models.CharField(max_length=20, choices=LogType.choices)
    # GetLog's requestId; 1.6 GetDiagnostics has none (its notifications carry no id either).
    request_id = models.IntegerField(null=True, blank=True)
    # The one-time secret in the upload URL: whoever knows it may upload one file for this
    # request, nothing else. Kept in clear because the URL is in the command and message log anyway.
    token = models.CharField(max_length=64, unique=True)
    remote_location = models.CharField(max_length=512)
    oldest_timestamp = models.DateTimeField(null=True, blank=True)
    latest_timestamp = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # The station's answer to GetLog (Accepted / Rejected / AcceptedCanceled), or what the
    # command bus saw instead (offline, timeout, error); blank while waiting.
    answer = models.CharField(max_length=30, blank=True)
    station_filename = models.CharField(max_length=255, blank=True)
    # Latest LogStatusNotification / DiagnosticsStatusNotification status.
    status = models.CharField(max_length=30, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="diagnostics/", max_length=300, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "request_id"],
                condition=models.Q(request_id__isnull=False),
                name="diag_log_request_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.log_type} #{self.request_id or self.pk}"


class LogStatusEvent(models.Model):
    """Every LogStatusNotification, the request's timeline. `log_request` is empty for a
    notification we cannot place (a TriggerMessage answer while nothing uploads)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="log_status_events")
    log_request = models.ForeignKey(
        LogRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="timeline"
    )
    request_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=30)
    info = models.CharField(max_length=600, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]


class StationRequest(models.Model):
    """A request whose answer arrives in numbered parts (NotifyMonitoringReport,
    NotifyCustomerInformation, NotifyDisplayMessages), keyed like the station keys them."""

    class Kind(models.TextChoices):
        MONITORING_REPORT = "MonitoringReport", "Monitoring report"
        CUSTOMER_INFORMATION = "CustomerInformation", "Customer information"
        DISPLAY_MESSAGES = "DisplayMessages", "Display messages"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="station_requests")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    request_id = models.IntegerField()
    # What we asked (the command payload, camelCase): a filtered report must not make us
    # forget what it did not cover.
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=30, blank=True)
    complete = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    # NotifyCustomerInformation: the parts' data joined in seqNo order once all arrived.
    document = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "kind", "request_id"], name="diag_station_request_unique")
        ]

    @property
    def filtered(self) -> bool:
        if not self.params:
            return True  # not asked by EVzone and not seen: assume it covered only part
        keys = {"componentVariable", "monitoringCriteria", "id", "priority", "state"}
        return any(self.params.get(k) for k in keys)


class ReportPart(models.Model):
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(StationRequest, on_delete=models.CASCADE, related_name="parts")
    # NotifyDisplayMessages has no seqNo: its parts are numbered in arrival order.
    seq_no = models.IntegerField()
    tbc = models.BooleanField(default=False)
    payload = models.JSONField(default=dict)
    generated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seq_no"]
        constraints = [models.UniqueConstraint(fields=["request", "seq_no"], name="diag_report_part_unique")]


class ComponentVariable(models.Model):
    """Abstract: a component and variable by name, as OCPP 2.x addresses them."""

    component_name = models.CharField(max_length=50)
    component_instance = models.CharField(max_length=50, blank=True)
    evse_id = models.IntegerField(null=True, blank=True)
    connector_id = models.IntegerField(null=True, blank=True)
    variable_name = models.CharField(max_length=50)
    variable_instance = models.CharField(max_length=50, blank=True)

    class Meta:
        abstract = True

    @property
    def component_label(self) -> str:
        label = self.component_name + (f"[{self.component_instance}]" if self.component_instance else "")
        if self.evse_id is not None:
            label += f" @EVSE {self.evse_id}" + (f"/{self.connector_id}" if self.connector_id is not None else "")
        return label

    @property
    def variable_label(self) -> str:
        return self.variable_name + (f"[{self.variable_instance}]" if self.variable_instance else "")


class Monitor(ComponentVariable):
    """A variable monitor the station has (reported by NotifyMonitoringReport, or set by us
    and accepted with the id the station assigned)."""

    class Source(models.TextChoices):
        REPORTED = "reported", "Reported by the station"
        SET = "set", "Set from EVzone"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="monitors")
    monitor_id = models.IntegerField()
    type = models.CharField(max_length=30)
    value = models.FloatField()
    severity = models.PositiveSmallIntegerField()
    transaction = models.BooleanField(default=False)
    # 2.1 reports say whether a monitor is hard-wired, preconfigured or custom.
    event_notification_type = models.CharField(max_length=30, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["component_name", "variable_name", "monitor_id"]
        constraints = [models.UniqueConstraint(fields=["charge_point", "monitor_id"], name="diag_monitor_unique")]


class MonitoringState(models.Model):
    """What SetMonitoringBase / SetMonitoringLevel last set (when the station accepted)."""

    charge_point = models.OneToOneField(ChargePoint, on_delete=models.CASCADE, related_name="monitoring_state")
    base = models.CharField(max_length=20, blank=True)
    base_at = models.DateTimeField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    level_at = models.DateTimeField(null=True, blank=True)


class StationEvent(ComponentVariable):
    """One NotifyEvent eventData entry."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="station_events")
    event_id = models.IntegerField()
    timestamp = models.DateTimeField()
    trigger = models.CharField(max_length=20)
    cause = models.IntegerField(null=True, blank=True)
    actual_value = models.CharField(max_length=2500)
    tech_code = models.CharField(max_length=50, blank=True)
    tech_info = models.CharField(max_length=500, blank=True)
    cleared = models.BooleanField(default=False)
    transaction_id = models.CharField(max_length=36, blank=True)
    variable_monitoring_id = models.IntegerField(null=True, blank=True)
    event_notification_type = models.CharField(max_length=30)
    # 2.1 sends it; for 2.0.1 it is the severity of the monitor that fired, when we know it.
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    is_alert = models.BooleanField(default=False)
    # An alert stays open until a cleared event for the same monitor/variable arrives or
    # someone acknowledges it.
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            # A NotifyEvent the station sends again (it never saw our answer) is the same event.
            models.UniqueConstraint(fields=["charge_point", "event_id", "timestamp"], name="diag_event_unique")
        ]
        indexes = [models.Index(fields=["charge_point", "-timestamp"], name="diag_event_cp_ts")]

    @property
    def alert_open(self) -> bool:
        return self.is_alert and not self.resolved_at and not self.acknowledged_at


class DisplayMessage(models.Model):
    """A message on a station's display: set by us and accepted, or reported by the station."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="display_messages")
    message_id = models.IntegerField()
    priority = models.CharField(max_length=20)
    state = models.CharField(max_length=20, blank=True)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    transaction_id = models.CharField(max_length=36, blank=True)
    format = models.CharField(max_length=10)
    language = models.CharField(max_length=8, blank=True)
    content = models.TextField()
    # The full MessageInfo as on the wire (display component, 2.1 messageExtra, customData).
    message_info = models.JSONField(default=dict)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "message_id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "message_id"], name="diag_display_message_unique")
        ]
