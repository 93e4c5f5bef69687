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
    # OCPP 2.x (TransactionEvent): the latest chargingState, the RequestStartTransaction
    # that led to it, sequence numbers that never arrived, and whether any event was
    # queued while the station was offline (sent late).
    charging_state = models.CharField(max_length=20, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)
    seq_gaps = models.JSONField(default=list, blank=True, help_text="seqNo values missing between received events.")
    offline = models.BooleanField(default=False, help_text="At least one event was recorded while offline.")
    cost_updated_at = models.DateTimeField(null=True, blank=True, help_text="Last CostUpdated sent (2.x).")
    meter_start = models.BigIntegerField(help_text="Wh")
    meter_stop = models.BigIntegerField(null=True, blank=True, help_text="Wh")
    started_at = models.DateTimeField(help_text="Charger's time; may be in the past for offline transactions.")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)
    stop_id_tag = models.CharField(max_length=255, blank=True)
    # Closed by EVzone, not by the station: its StopTransaction / Ended never arrived (the
    # EVSE started another transaction, or the sweep found it silent). stop_reason says
    # which (STOP_EVSE_REUSED, STOP_NO_ACTIVITY); a late real end clears it.
    stop_missing = models.BooleanField(
        default=False, help_text="The station never reported the end: closed by EVzone, priced from its last reading."
    )
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
        indexes = [
            models.Index(fields=["charge_point", "status"], name="tx_cp_status"),
            # Sessions by when they ended: the missing-CDR sweep (every 15 minutes, every
            # organisation) and period reports, without reading the whole table.
            models.Index(fields=["stopped_at"], name="tx_stopped_at"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}#{self.transaction_id}"

    @property
    def energy_wh(self) -> int | None:
        return None if self.meter_stop is None else self.meter_stop - self.meter_start

    @property
    def is_v2(self) -> bool:
        """Reported by TransactionEvent (OCPP 2.x) rather than Start/StopTransaction."""
        return self.start_key.startswith(V2_START_KEY_PREFIX)


# Transaction.stop_reason of a transaction closed without its StopTransaction / Ended.
STOP_EVSE_REUSED = "EVSEReused"  # the EVSE (1.6: connector) started another transaction
STOP_NO_ACTIVITY = "NoActivity"  # silent for ChargingSettings.unreported_end_hours

# Transaction.start_key of OCPP 2.x transactions: the station's own transaction id is the
# identity (unique per station), so no hash of the start request is needed.
V2_START_KEY_PREFIX = "v2:"


class TransactionEvent(models.Model):
    """One OCPP 2.x TransactionEventRequest, as received (never rewritten), with our answer.

    Kept in full so that events delivered late or out of order can be replayed in seqNo
    order, gaps shown, and a retried request (our answer was lost) answered the same."""

    class Type(models.TextChoices):
        STARTED = "Started", "Started"
        UPDATED = "Updated", "Updated"
        ENDED = "Ended", "Ended"

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="events")
    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="+")
    seq_no = models.BigIntegerField()
    event_type = models.CharField(max_length=8, choices=Type.choices)
    trigger_reason = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    offline = models.BooleanField(default=False)
    charging_state = models.CharField(max_length=20, blank=True)
    stopped_reason = models.CharField(max_length=32, blank=True)
    number_of_phases_used = models.IntegerField(null=True, blank=True)
    cable_max_current = models.IntegerField(null=True, blank=True)
    reservation_id = models.IntegerField(null=True, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    id_token = models.CharField(max_length=255, blank=True)
    id_token_type = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict, help_text="The request as received (camelCase).")
    answer = models.JSONField(default=dict, blank=True, help_text="What we answered (camelCase).")
    # sha256 of the canonical request: the same request again is a retry, not a new event.
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seq_no", "timestamp", "id"]
        constraints = [models.UniqueConstraint(fields=["transaction", "digest"], name="tx_event_idempotent")]
        indexes = [models.Index(fields=["transaction", "seq_no"], name="tx_event_seq")]

    def __str__(self) -> str:
        return f"{self.transaction_id} #{self.seq_no} {self.event_type} ({self.trigger_reason})"


class RemoteStart(models.Model):
    """A RequestStartTransaction (2.x): its remoteStartId ties the transaction the station
    then reports (transactionInfo.remoteStartId) to who asked for it."""

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="remote_starts")
    remote_start_id = models.IntegerField()
    id_token = models.CharField(max_length=255)
    id_token_type = models.CharField(max_length=20, blank=True)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, blank=True)
    charger_status = models.CharField(max_length=16, blank=True, help_text="Accepted / Rejected, once answered.")
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "remote_start_id"], name="remote_start_id_per_charger")
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} remote start {self.remote_start_id}"


class ChargingSettings(models.Model):
    """Per-organisation charging rules (one row, created on first use)."""

    # OCPP 2.0.1 C16: a card whose groupIdToken equals the station's MasterPassGroupId may
    # stop any transaction but start none. EVzone answers such cards with this group.
    master_pass_group_id = models.CharField(
        max_length=36,
        blank=True,
        help_text="Id tokens with this group id are master passes (stop any session, start none). "
        "Set the same value as AuthCtrlr.MasterPassGroupId on the stations.",
    )
    cost_update_minutes = models.PositiveIntegerField(
        default=5, help_text="Send CostUpdated to OCPP 2.x stations every this many minutes (0: never)."
    )

    # A live session reports something well within this: meter values every few minutes, or
    # (1.6 chargers without meter values) heartbeats while the connector stays occupied.
    # 48 h covers a weekend-long depot or hotel session that reports nothing but its start,
    # and still frees a card locked by a lost stop within two days.
    unreported_end_hours = models.PositiveIntegerField(
        default=48,
        help_text="Close active sessions that have had no message for this many hours (0: never); "
        "their end was lost. Priced from the last meter reading.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "charging settings"

    def __str__(self) -> str:
        return "Charging settings"


class MeterValue(models.Model):
    """One sampled value. Narrow rows, indexed for a time series per transaction."""

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="+")
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.CASCADE, related_name="meter_values"
    )
    connector_id = models.PositiveIntegerField()
    # 2.x numbers connectors inside an EVSE (MeterValues carries only the EVSE); 1.6: = connector_id.
    evse_id = models.PositiveIntegerField(default=0)
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
    # OCPP 2.x signedMeterValue {signedMeterData, signingMethod, encodingMethod, publicKey}, verbatim.
    signed = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            # A MeterValues.req retried after a lost response must not double the series.
            models.UniqueConstraint(
                fields=[
                    "charge_point",
                    "evse_id",
                    "connector_id",
                    "timestamp",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                    "format",
                ],
                name="mv_sample_unique_evse",
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
        # OCPP 2.x ReservationStatusUpdate.
        EXPIRED = "Expired", "Expired"
        REMOVED = "Removed", "Removed by the charger"

    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.CASCADE, related_name="reservations")
    reservation_id = models.IntegerField()
    # 1.6: connectorId (0 = any). 2.x reserves an EVSE (or any EVSE with a connector type).
    connector_id = models.PositiveIntegerField(default=0)
    evse_id = models.PositiveIntegerField(null=True, blank=True)
    connector_type = models.CharField(max_length=20, blank=True)
    id_tag = models.CharField(max_length=255)
    id_token_type = models.CharField(max_length=20, blank=True)
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


class LocalAuthList(models.Model):
    """Which id tokens a set of chargers carries in its OCPP local authorisation list.

    A charger's list is the union of every list assigned to it directly or through its
    location, so a list doubles as a charger group."""

    class Mode(models.TextChoices):
        ALL = "all", "All cards"
        GROUPS = "groups", "Cards of chosen groups"
        TOKENS = "tokens", "Chosen cards"

    name = models.CharField(max_length=100, unique=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ALL)
    group_ids = models.JSONField(default=list, blank=True, help_text="group_id values (mode: groups).")
    tokens = models.ManyToManyField(IdToken, blank=True, related_name="local_auth_lists")
    # A blocked card left out of the list could still be accepted offline from the
    # charger's authorisation cache; carried as Blocked it is refused even offline.
    include_refused = models.BooleanField(
        default=True, help_text="Also carry blocked, expired and invalid cards so the charger refuses them offline."
    )
    charge_points = models.ManyToManyField("chargers.ChargePoint", blank=True, related_name="local_auth_lists")
    locations = models.ManyToManyField("chargers.Location", blank=True, related_name="local_auth_lists")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LocalListState(models.Model):
    """What EVzone last pushed to one charger's local list, kept apart from the version
    the charger itself reports (ChargePoint.local_list_version)."""

    class Status(models.TextChoices):
        IN_SYNC = "in_sync", "In sync"
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"

    charge_point = models.OneToOneField(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="local_list_state"
    )
    version = models.IntegerField(default=0, help_text="listVersion of the last push the charger accepted.")
    # idTag -> idTagInfo (camelCase, as sent) of that version: the base for differentials.
    entries = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The charger's copy is uncertain (no answer, refused Full, version mismatch): the
    # next automatic push is Full.
    needs_full = models.BooleanField(default=True)
    # Bumped by every change that may alter the list; a push that started before a bump
    # must not declare the charger in sync.
    generation = models.PositiveIntegerField(default=0)
    push_started_at = models.DateTimeField(null=True, blank=True, help_text="Set while a push is running.")
    last_update_type = models.CharField(max_length=12, blank=True)
    last_answer = models.CharField(
        max_length=20, blank=True, help_text="Accepted, Failed, NotSupported, VersionMismatch, offline, ..."
    )
    last_message = models.TextField(blank=True)
    last_command = models.ForeignKey("csms.Command", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.charge_point_id} v{self.version} ({self.status})"
