"""Card payments through the organisation's gateway (Stripe or Adyen). Tenant schema.

A Payment is one authorisation at the gateway (a session pre-authorisation or a wallet
top-up); PaymentOperations are the calls made on it (authorise, capture, cancel, refund,
amount update), each with its idempotency key; WebhookEvents are what the gateway told us,
stored before anything is done with them and processed once.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.billing.models import MONEY
from apps.core.crypto import decrypt_json, encrypt_json


class Provider(models.TextChoices):
    NONE = "none", "No card payments"
    STRIPE = "stripe", "Stripe"
    ADYEN = "adyen", "Adyen"


class GatewayConfig(models.Model):
    """The organisation's gateway and its own credentials (one row per schema), encrypted."""

    provider = models.CharField(max_length=8, choices=Provider.choices, default=Provider.NONE)
    # The platform's own Stripe/Adyen account (credentials from the environment, never stored
    # here) instead of the organisation's: see apps.payments.platform.
    use_platform = models.BooleanField(default=False)
    credentials_encrypted = models.TextField(blank=True)
    live = models.BooleanField(default=False, help_text="Off: the gateway's test environment.")
    preauth_amount = models.DecimalField(default=30, help_text="Held on the card when a session starts.", **MONEY)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def credentials(self) -> dict:
        return decrypt_json(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_encrypted = encrypt_json(value)


class Payment(models.Model):
    class Kind(models.TextChoices):
        SESSION = "session", "Charging session"
        TOPUP = "topup", "Wallet top-up"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZED = "authorized", "Authorised"
        # Adyen confirms captures by webhook; until then the capture is only requested.
        CAPTURE_PENDING = "capture_pending", "Capture requested"
        CAPTURED = "captured", "Captured"
        CAPTURE_FAILED = "capture_failed", "Capture failed"
        CANCELLED = "cancelled", "Released"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    provider = models.CharField(max_length=8, choices=Provider.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3)
    amount_authorized = models.DecimalField(default=0, **MONEY)
    amount_captured = models.DecimalField(default=0, **MONEY)
    amount_refunded = models.DecimalField(default=0, **MONEY)
    # What the session finally cost (the CDR total): what a capture, or its retries, take.
    amount_due = models.DecimalField(null=True, blank=True, **MONEY)
    fee = models.DecimalField(default=0, **MONEY)
    reference = models.CharField(max_length=120, blank=True, help_text="PaymentIntent id / pspReference.")
    # Our own reference, sent as merchant reference / metadata: unique, so webhooks find us.
    merchant_reference = models.CharField(max_length=64, unique=True)
    transaction = models.ForeignKey(
        "charging.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    cdr = models.ForeignKey("billing.ChargeDetailRecord", null=True, blank=True, on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The card on file a driver's session was pre-authorised on (off-session), if any.
    saved_card = models.ForeignKey(
        "payments.SavedCard", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    wallet = models.ForeignKey("wallets.LedgerAccount", null=True, blank=True, on_delete=models.PROTECT)
    # The id token a pay-first session (a guest at the QR page) is started with: the session's
    # Transaction is linked to this payment by it (apps.payments.services.payment_link_by_id_tag).
    id_tag = models.CharField(max_length=36, blank=True, db_index=True)
    # What the driver owes beyond what the card gave (a cost above the Stripe hold, a corrected
    # CDR that cost more after capture): a receivable for finance, shown under "needs attention".
    amount_outstanding = models.DecimalField(default=0, **MONEY)
    capture_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction"], condition=models.Q(kind="session"), name="one_preauth_per_session"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount_captured")), name="refund_within_capture"
            ),
        ]
        indexes = [models.Index(fields=["provider", "reference"], name="payment_reference")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.merchant_reference}"

    @property
    def refundable(self):
        return self.amount_captured - self.amount_refunded


class PaymentOperation(models.Model):
    class Kind(models.TextChoices):
        AUTHORIZE = "authorize", "Authorise"
        UPDATE = "update", "Amount update"
        CAPTURE = "capture", "Capture"
        CANCEL = "cancel", "Release"
        REFUND = "refund", "Refund"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="operations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    amount = models.DecimalField(default=0, **MONEY)
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=120, unique=True)
    provider_reference = models.CharField(max_length=120, blank=True)
    fee = models.DecimalField(default=0, **MONEY)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class WebhookEvent(models.Model):
    provider = models.CharField(max_length=8, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=120)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")]


class PaymentCorrection(models.Model):
    """How a corrected CDR was settled on the card that paid its session: once per CDR (unique),
    so a task retried or a correction settled twice moves the money once.

    Lower cost: the difference is refunded automatically (after first reducing what the driver
    still owed). Higher cost after capture: the card cannot be charged again without the driver,
    so the difference becomes a receivable (`Payment.amount_outstanding`) for finance. Before
    capture the corrected amount is simply what gets captured."""

    class Outcome(models.TextChoices):
        BEFORE_CAPTURE = "before_capture", "Applied before capture"
        WAITING_CAPTURE = "waiting_capture", "Waiting for the capture to be confirmed"
        REFUND = "refund", "Difference refunded"
        RECEIVABLE = "receivable", "Difference owed (receivable)"
        NONE = "none", "Nothing to settle"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="corrections")
    cdr = models.OneToOneField("billing.ChargeDetailRecord", on_delete=models.PROTECT, related_name="+")
    previous_amount = models.DecimalField(**MONEY)
    corrected_amount = models.DecimalField(**MONEY)
    refund_amount = models.DecimalField(default=0, **MONEY)
    receivable_amount = models.DecimalField(default=0, **MONEY)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    refund = models.ForeignKey(PaymentOperation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def difference(self):
        return self.corrected_amount - self.previous_amount


# ------------------------------------------------------------------ cards on file


class GatewayCustomer(models.Model):
    """The driver as a customer of the gateway account: a Stripe Customer (`cus_...`) or the
    Adyen `shopperReference` we chose. Stored cards belong to it. Per gateway account
    ("own" credentials or the "platform" account): a customer of one account does not exist in
    the other, so switching accounts needs the card saved again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gateway_customers")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    account = models.CharField(max_length=8, default="own")  # "own" | "platform"
    reference = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One customer per driver and account: two pages opened at once share one Customer.
            models.UniqueConstraint(fields=["user", "provider", "account"], name="one_gateway_customer")
        ]


class SavedCard(models.Model):
    """A card the driver saved for future sessions. Only the gateway's references and what the
    driver needs to recognise the card (brand, last 4 digits, expiry): never card data."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Saved"
        FAILED = "failed", "Not saved"
        REMOVED = "removed", "Removed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="saved_cards")
    customer = models.ForeignKey(GatewayCustomer, on_delete=models.PROTECT, related_name="cards")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Ours, sent as merchant reference / metadata (`o<org>.card-<hex>`): webhooks find the card by
    # it, and the platform account's webhooks are routed by its prefix.
    setup_reference = models.CharField(max_length=64, unique=True)
    # The gateway's: SetupIntent id (Stripe) / pspReference of the zero-value authorisation (Adyen).
    setup_gateway_reference = models.CharField(max_length=120, blank=True)
    # What a later payment names: PaymentMethod id (Stripe) / storedPaymentMethodId (Adyen).
    payment_method_reference = models.CharField(max_length=120, blank=True)
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True, status="active"), name="one_default_card"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand or 'card'} •••• {self.last4 or '????'}"

    def expired(self, today=None) -> bool:
        if not self.exp_year or not self.exp_month:
            return False
        today = today or timezone.now().date()
        return (self.exp_year, self.exp_month) < (today.year, today.month)


class SessionPaymentChoice(models.Model):
    """The driver's choice for paying sessions: by card on file even though a wallet would pay.
    Without a row (or with by_card off) the wallet pays when there is one (README: which pays)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    by_card = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
