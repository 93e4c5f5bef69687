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


class GuestSession(models.Model):
    """A driver without an account paying by card at the connector: a hold first, RemoteStart only
    once the hold is authorised, the session linked to the payment so the CDR captures it.

    The guest follows the session on a signed link (apps.qr.guest.guest_link); `nonce` makes it
    unguessable even though primary keys are sequential, and the signature makes it unforgeable."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Waiting for the card"
        AUTHORIZED = "authorized", "Card authorised"
        STARTING = "starting", "Starting the charger"
        STARTED = "started", "Plug in your car"
        CHARGING = "charging", "Charging"
        COMPLETED = "completed", "Finished"
        START_FAILED = "start_failed", "Could not start"
        CANCELLED = "cancelled", "Cancelled"

    code = models.ForeignKey(ConnectorCode, on_delete=models.PROTECT, related_name="guest_sessions")
    email = models.EmailField()
    # The start form's one-time key: a double click creates one session (and one hold).
    form_key = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=32)
    # The id token RemoteStart uses (created once the hold is authorised); CiString20 in 1.6.
    id_tag = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    message = models.CharField(max_length=200, blank=True)
    payment = models.OneToOneField(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="guest_session"
    )
    transaction = models.ForeignKey(
        "charging.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="qr_guest_status")]
