"""Stable QR codes per connector and what drivers do with them (tenant schema)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConnectorCode(models.Model):
    """The code printed on a connector's sticker: /c/<code>. Never reused or changed,
    so a sticker stays valid for the life of the connector."""

    code = models.CharField(max_length=16, unique=True)
    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="qr_codes")
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["charge_point", "evse_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "evse_id", "connector_id"], name="qr_code_per_connector")
        ]

    def __str__(self) -> str:
        return self.code


class QrEvent(models.Model):
    class Kind(models.TextChoices):
        SCAN = "scan", "Scanned"
        START = "start", "Start requested"
        START_REFUSED = "start_refused", "Start refused"
        STOP = "stop", "Stop requested"

    code = models.ForeignKey(ConnectorCode, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["code", "kind", "created_at"], name="qr_event_code_kind")]
