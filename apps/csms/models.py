"""Central-system records: per-organisation OCPP settings, the message log, commands."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


class CsmsSettings(models.Model):
    """Singleton (pk=1) in each organisation's schema."""

    class UnknownIdentityPolicy(models.TextChoices):
        REJECT = "reject", "Reject the connection"
        PENDING = "pending", "Register as Pending for an operator to accept"
        ACCEPT = "accept", "Accept automatically"

    unknown_identity_policy = models.CharField(
        max_length=16, choices=UnknownIdentityPolicy.choices, default=UnknownIdentityPolicy.REJECT
    )
    heartbeat_interval = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(10)], help_text="Seconds, sent in BootNotification."
    )
    pending_retry_interval = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(10)],
        help_text="Seconds before a Pending/Rejected charger boots again.",
    )
    message_log_retention_days = models.PositiveIntegerField(default=30, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "OCPP settings"
        verbose_name_plural = "OCPP settings"

    def __str__(self) -> str:
        return "OCPP settings"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)


class MessageLog(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "Charger → CSMS"
        OUT = "out", "CSMS → charger"

    class MessageType(models.IntegerChoices):
        CALL = 2, "CALL"
        CALLRESULT = 3, "CALLRESULT"
        CALLERROR = 4, "CALLERROR"
        INVALID = 0, "unparseable"

    # No FK: log rows are bulk-inserted off the hot path and must not fail
    # (or block deletes) because a charger was removed meanwhile.
    charge_point_id = models.BigIntegerField(db_index=False)
    identity = models.CharField(max_length=48)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(choices=MessageType.choices)
    action = models.CharField(max_length=64, blank=True)
    unique_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True, blank=True)
    raw = models.TextField(blank=True, help_text="The frame as received, when it was not valid JSON.")
    error_code = models.CharField(max_length=40, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["charge_point_id", "-timestamp"], name="msglog_cp_ts"),
            models.Index(fields=["timestamp"], name="msglog_ts"),
        ]


class Command(models.Model):
    """An outbound call to a charger: who asked, what, and what came back."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the charger"
        OK = "ok", "Answered (CALLRESULT)"
        ERROR = "error", "Answered with a CALLERROR"
        TIMEOUT = "timeout", "No answer in time"
        OFFLINE = "offline", "Charger not connected"

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="commands")
    action = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ocpp_commands"
    )
    source = models.CharField(max_length=32, blank=True, help_text="api, admin, task, ...")
    unique_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_description = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-created_at"], name="cmd_cp_created")]

    def __str__(self) -> str:
        return f"{self.action} → {self.charge_point_id} ({self.status})"
