"""Prepaid wallets on a double-entry ledger, and group (family/fleet) wallets. Tenant schema.

Sign convention: a line's amount is what its account receives (+) or gives (-). The lines of a
journal entry sum to zero per currency, so money is only ever moved, never created or lost.
A wallet's balance is the sum of its lines (positive: money the driver holds). `balance` is a
cache, changed only by `apps.wallets.ledger.post` in the same database transaction as the lines
and under a row lock; `manage.py ledger_check` proves it equals the sum of the lines.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.billing.models import MONEY, ImmutableRecord


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        DRIVER_WALLET = "driver_wallet", "Driver wallet"
        GROUP_WALLET = "group_wallet", "Group wallet"
        # System accounts, one per currency. Their balances are the other side of wallet movements.
        GATEWAY_CLEARING = "gateway_clearing", "Gateway clearing"
        REVENUE = "revenue", "Charging revenue"
        REFUNDS = "refunds", "Refunds"
        ADJUSTMENTS = "adjustments", "Manual adjustments"
        RECEIVABLES = "receivables", "Receivables (cost a wallet could not cover)"

    WALLET_KINDS = (Kind.DRIVER_WALLET, Kind.GROUP_WALLET)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    name = models.CharField(max_length=120, blank=True)
    balance = models.DecimalField(default=0, **MONEY)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "currency"], condition=models.Q(kind="driver_wallet"), name="one_driver_wallet"
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=~models.Q(kind__in=["driver_wallet", "group_wallet"]),
                name="one_system_account_per_currency",
            ),
            # The last line of defence: even a buggy service cannot overdraw a wallet.
            models.CheckConstraint(
                condition=~models.Q(kind__in=["driver_wallet", "group_wallet"]) | models.Q(balance__gte=0),
                name="wallet_not_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} {self.currency}"

    @property
    def is_wallet(self) -> bool:
        return self.kind in self.WALLET_KINDS


class JournalEntry(ImmutableRecord):
    """One money movement. Traceable to what caused it: a CDR, a top-up payment, a refund or an
    adjustment with the staff member who made it."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        SESSION_DEBIT = "session_debit", "Charging session"
        SESSION_CREDIT = "session_credit", "Session corrected (money back)"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    memo = models.CharField(max_length=255, blank=True)
    # Natural key of the cause ("cdr:<cdr id>", "topup:<payment id>"): a retried call finds the
    # entry it already made instead of moving the money twice.
    idempotency_key = models.CharField(max_length=120, unique=True)
    cdr = models.ForeignKey(
        "billing.ChargeDetailRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transaction = models.ForeignKey(
        "charging.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external_reference = models.CharField(max_length=120, blank=True, help_text="Payment id at the gateway.")
    # Who charged (a group wallet member) and who acted (staff for adjustments and refunds).
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shortfall = models.DecimalField(default=0, help_text="Cost the wallet could not cover.", **MONEY)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class JournalLine(ImmutableRecord):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="journal_line_account")]


class WalletSettings(models.Model):
    """The organisation's wallet rules (one row per schema)."""

    min_start_balance = models.DecimalField(
        default=5, help_text="A session may start only with at least this balance.", **MONEY
    )
    stop_when_exhausted = models.BooleanField(
        default=True, help_text="Stop a session remotely when its running cost reaches the balance."
    )
    # Off: a driver with no wallet and no card on file still charges (invoiced, or collected
    # later). On: such a driver is refused at Authorize (README: which pays).
    require_payment_means = models.BooleanField(
        default=False, help_text="Refuse drivers who have neither a wallet nor a saved card."
    )

    class Meta:
        verbose_name_plural = "wallet settings"


class GroupWallet(models.Model):
    """A family or fleet wallet: one shared ledger account, an owner, members with limits."""

    name = models.CharField(max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_group_wallets")
    account = models.OneToOneField(LedgerAccount, on_delete=models.PROTECT, related_name="group_wallet")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACTIVE = "active", "Active"
        REMOVED = "removed", "Removed"

    group = models.ForeignKey(GroupWallet, on_delete=models.CASCADE, related_name="members")
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="group_memberships"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.INVITED)
    # SHA-256 of the invitation secret; the secret itself is only in the e-mail.
    invite_digest = models.CharField(max_length=64, blank=True)
    invited_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    can_top_up = models.BooleanField(default=False)
    can_see_all_usage = models.BooleanField(default=False)
    # Sessions of this member are paid from the group wallet instead of their own wallet.
    pays_sessions = models.BooleanField(default=True)
    limit_per_session = models.DecimalField(null=True, blank=True, **MONEY)
    limit_per_day = models.DecimalField(null=True, blank=True, **MONEY)
    limit_per_month = models.DecimalField(null=True, blank=True, **MONEY)
    allowed_locations = models.ManyToManyField("chargers.Location", blank=True, related_name="+")
    # Local time of the organisation; until < from means overnight (22:00-06:00).
    allowed_from = models.TimeField(null=True, blank=True)
    allowed_until = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "email"], condition=~models.Q(status="removed"), name="group_member_email_once"
            ),
            # A driver's sessions go to at most one group wallet: no ambiguity at debit time.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="active", pays_sessions=True),
                name="one_paying_group_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} in {self.group}"
