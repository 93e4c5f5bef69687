"""Id tokens, transactions and meter values (tenant schema)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdToken(models.Model):
    class Type(models.TextChoices):
        # OCPP 2.x IdTokenEnumType; 1.6 idTags are stored as ISO14443 (RFID UIDs) by default.
        CENTRAL = "Central", "Central"
        EMAID = "eMAID", "eMAID"
        ISO14443 = "ISO14443", "ISO 14443 (RFID)"
        ISO15693 = "ISO15693", "ISO 15693"
        KEY_CODE = "KeyCode", "Key code"
        LOCAL = "Local", "Local"
        MAC_ADDRESS = "MacAddress", "MAC address"
        NO_AUTHORIZATION = "NoAuthorization", "No authorization"

    class Status(models.TextChoices):
        ACCEPTED = "Accepted", "Accepted"
        BLOCKED = "Blocked", "Blocked"
        EXPIRED = "Expired", "Expired"
        INVALID = "Invalid", "Invalid"

    # 1.6 idTag is CiString20 (case-insensitive); 2.x idToken is up to 36 (2.1: 255).
    id_token = models.CharField(max_length=255)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.ISO14443)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACCEPTED)
    expires_at = models.DateTimeField(null=True, blank=True)
    group_id = models.CharField(max_length=255, blank=True, help_text="parentIdTag (1.6) / groupIdToken (2.x).")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="id_tokens"
    )
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id_token"]
        constraints = [
            # CiString: "ABC" and "abc" are the same token on the wire.
            models.UniqueConstraint(models.functions.Upper("id_token"), name="id_token_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.id_token


class Transaction(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "Active", "Active"
        COMPLETED = "Completed", "Completed"

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.PROTECT, related_name="transactions")
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    # 1.6: the integer we hand out (= pk, unique in the organisation's schema).
    # 2.x: the charger's own string, unique per charger.
    transaction_id = models.CharField(max_length=64, null=True, blank=True)
    id_tag = models.CharField(max_length=255, blank=True)
    id_token = models.ForeignKey(IdToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions")
    # Authorisation status we answered at start (Accepted, Invalid, ConcurrentTx, ...).
    auth_status = models.CharField(max_length=16, blank=True)
    reservation_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    meter_start = models.BigIntegerField(help_text="Wh")
    meter_stop = models.BigIntegerField(null=True, blank=True, help_text="Wh")
    started_at = models.DateTimeField(help_text="Charger's time; may be in the past for offline transactions.")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)
    stop_id_tag = models.CharField(max_length=255, blank=True)
    # Hash of what the charger sent in StartTransaction: a retry (lost response)
    # hits the unique constraint and gets the same transactionId back.
    start_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "start_key"], name="tx_start_idempotent"),
            models.UniqueConstraint(fields=["charge_point", "transaction_id"], name="tx_id_per_charger"),
        ]
        indexes = [models.Index(fields=["charge_point", "status"], name="tx_cp_status")]

    def __str__(self) -> str:
        return f"{self.charge_point_id}#{self.transaction_id}"

    @property
    def energy_wh(self) -> int | None:
        return None if self.meter_stop is None else self.meter_stop - self.meter_start


class MeterValue(models.Model):
    """One sampled value. Narrow rows, indexed for a time series per transaction."""

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="+")
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.CASCADE, related_name="meter_values"
    )
    connector_id = models.PositiveIntegerField()
    timestamp = models.DateTimeField()
    measurand = models.CharField(max_length=40, default="Energy.Active.Import.Register")
    phase = models.CharField(max_length=8, blank=True)
    unit = models.CharField(max_length=12, blank=True)
    context = models.CharField(max_length=24, blank=True)
    location = models.CharField(max_length=8, blank=True)
    # Numeric values are parsed; anything else (SignedData, vendor oddities) is kept verbatim.
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    raw_value = models.TextField(blank=True)
    format = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            # A MeterValues.req retried after a lost response must not double the series.
            models.UniqueConstraint(
                fields=[
                    "charge_point",
                    "connector_id",
                    "timestamp",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                    "format",
                ],
                name="mv_sample_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["transaction", "timestamp"], name="mv_tx_ts"),
            models.Index(fields=["charge_point", "timestamp"], name="mv_cp_ts"),
        ]


class Reservation(models.Model):
    """A ReserveNow the charger answered, and what became of it."""

    class Status(models.TextChoices):
        ACTIVE = "Active", "Active"
        REFUSED = "Refused", "Refused by the charger"
        USED = "Used", "Used by a transaction"
        CANCELLED = "Cancelled", "Cancelled"

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="reservations")
    reservation_id = models.IntegerField()
    connector_id = models.PositiveIntegerField()
    id_tag = models.CharField(max_length=255)
    parent_id_tag = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    charger_status = models.CharField(max_length=16, blank=True, help_text="The charger's answer to ReserveNow.")
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "reservation_id"], name="reservation_id_per_charger")
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}#{self.reservation_id} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.ACTIVE and self.expires_at <= timezone.now()
