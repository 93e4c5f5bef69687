"""Charge detail records (OCPI 2.2.1 CDR fields), invoices, credit notes and their numbering."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

# Amounts are rounded to the currency's minor unit (at most 4 decimals in ISO 4217).
MONEY = {"max_digits": 18, "decimal_places": 4}
VOLUME = {"max_digits": 18, "decimal_places": 6}
RATE = {"max_digits": 24, "decimal_places": 10}


def new_cdr_id() -> str:
    return str(uuid.uuid4())


class BillingSettings(models.Model):
    """Per-organisation billing rules (one row, created on first use)."""

    # A failed start (the cable not locked, the car refusing) still makes a session: without
    # this rule a one-second 0 kWh session costs a time or parking step and a session fee.
    min_billable_energy_kwh = models.DecimalField(
        max_digits=9,
        decimal_places=3,
        default=0,
        help_text="A session that delivered no more energy than this (kWh) is free. 0: only sessions "
        "that delivered nothing are free.",
    )
    min_billable_minutes = models.PositiveIntegerField(
        default=0, help_text="A session shorter than this many minutes is free (0: no duration rule)."
    )

    class Meta:
        verbose_name = verbose_name_plural = "billing settings"

    def __str__(self) -> str:
        return "Billing settings"


class ImmutableRecord(models.Model):
    """Inserted once, never updated: a second save of a stored row is a programming error.
    Services never update these rows; the guard catches a slip before it reaches the books."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} is immutable; issue a correction instead.")
        super().save(*args, **kwargs)


class ChargeDetailRecord(ImmutableRecord):
    class AuthMethod(models.TextChoices):
        AUTH_REQUEST = "AUTH_REQUEST"
        COMMAND = "COMMAND"
        WHITELIST = "WHITELIST"

    class TokenType(models.TextChoices):
        AD_HOC_USER = "AD_HOC_USER"
        APP_USER = "APP_USER"
        OTHER = "OTHER"
        RFID = "RFID"

    cdr_id = models.CharField("CDR id", max_length=39, unique=True, default=new_cdr_id)
    transaction = models.ForeignKey("charging.Transaction", on_delete=models.PROTECT, related_name="cdrs")
    # A correction replaces exactly one earlier record (one-to-one: the chain cannot fork).
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    correction_reason = models.TextField(blank=True)

    start_date_time = models.DateTimeField()
    end_date_time = models.DateTimeField()
    # OCPI CdrToken.
    token_uid = models.CharField(max_length=255, blank=True)
    token_type = models.CharField(max_length=12, choices=TokenType.choices)
    token_contract_id = models.CharField(max_length=255, blank=True)
    ocpp_token_type = models.CharField(max_length=20, blank=True)
    auth_method = models.CharField(max_length=12, choices=AuthMethod.choices)
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cdrs"
    )
    # Where: references for filtering plus an OCPI CdrLocation snapshot (the site may change later).
    charge_point = models.ForeignKey("chargers.ChargePoint", on_delete=models.PROTECT, related_name="cdrs")
    charge_point_identity = models.CharField(max_length=48)
    location = models.ForeignKey(
        "chargers.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="cdrs"
    )
    evse_id = models.PositiveIntegerField()
    connector_id = models.PositiveIntegerField()
    cdr_location = models.JSONField(default=dict)
    time_zone = models.CharField(max_length=64)

    currency = models.CharField(max_length=3)
    tariff = models.ForeignKey("tariffs.Tariff", null=True, blank=True, on_delete=models.SET_NULL, related_name="cdrs")
    tariffs = models.JSONField(default=list, help_text="OCPI Tariff objects as they were when priced.")
    charging_periods = models.JSONField(default=list)
    # How each amount came about: per tariff line (dimension, price, VAT) the billed volume and
    # the exact amount excl. VAT (12 decimals); invoices are built from these.
    cost_lines = models.JSONField(default=list)

    total_cost_excl_vat = models.DecimalField(**MONEY)
    total_cost_incl_vat = models.DecimalField(**MONEY)
    total_fixed_cost_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_fixed_cost_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_energy = models.DecimalField(help_text="kWh", **VOLUME)
    total_energy_cost_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_energy_cost_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_time = models.DecimalField(help_text="hours", **VOLUME)
    total_time_cost_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_time_cost_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_parking_time = models.DecimalField(help_text="hours", **VOLUME)
    total_parking_cost_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    total_parking_cost_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    min_price_applied = models.BooleanField(default=False)
    max_price_applied = models.BooleanField(default=False)

    no_tariff = models.BooleanField(default=False, help_text="No tariff applied: the session was not priced.")
    pricing_notes = models.TextField(blank=True)

    # The organisation's currency when the tariff's differs: converted totals, rate and ECB day used.
    organization_currency = models.CharField(max_length=3, blank=True)
    converted_total_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    converted_total_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    conversion_rate = models.DecimalField(null=True, blank=True, **RATE)
    conversion_rate_date = models.DateField(null=True, blank=True)

    last_updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_date_time", "-id"]
        verbose_name = "charge detail record"
        constraints = [
            # One original per transaction: creating CDRs is idempotent even when racing.
            models.UniqueConstraint(
                fields=["transaction"],
                condition=models.Q(replaces__isnull=True),
                name="cdr_one_original_per_transaction",
            ),
        ]
        indexes = [models.Index(fields=["-start_date_time"], name="cdr_start")]

    def __str__(self) -> str:
        return f"CDR {self.cdr_id}"

    @property
    def is_correction(self) -> bool:
        return self.replaces_id is not None


class Invoice(ImmutableRecord):
    """An invoice (the driver's receipt for one CDR) or a credit note against an invoice.
    Amounts are positive for both kinds; a credit note's amounts are owed back to the driver."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    number = models.CharField(max_length=32, unique=True)
    cdr = models.ForeignKey(ChargeDetailRecord, on_delete=models.PROTECT, related_name="invoices")
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.TextField(blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(max_length=3)
    total_excl_vat = models.DecimalField(**MONEY)
    total_vat = models.DecimalField(**MONEY)
    total_incl_vat = models.DecimalField(**MONEY)
    vat_breakdown = models.JSONField(default=list, help_text='[{"rate": "19", "net", "vat", "gross"}]')
    # Snapshots: an invoice shows the seller's and buyer's details as they were when issued.
    seller = models.JSONField(default=dict)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    customer_name = models.CharField(max_length=150, blank=True)
    customer_email = models.EmailField(blank=True)
    # For information, in the organisation's currency (VAT returns are filed in it).
    converted_currency = models.CharField(max_length=3, blank=True)
    converted_total_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    converted_total_vat = models.DecimalField(null=True, blank=True, **MONEY)
    conversion_rate = models.DecimalField(null=True, blank=True, **RATE)
    conversion_rate_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["cdr"], condition=models.Q(kind="invoice"), name="invoice_one_per_cdr"),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", credited_invoice__isnull=True)
                | models.Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_references_invoice",
            ),
            models.CheckConstraint(condition=models.Q(total_incl_vat__gte=0), name="invoice_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(ImmutableRecord):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(null=True, blank=True, **VOLUME)
    unit = models.CharField(max_length=12, blank=True)
    unit_price = models.DecimalField(null=True, blank=True, max_digits=16, decimal_places=6)
    vat_rate = models.DecimalField(
        null=True, blank=True, max_digits=7, decimal_places=4, help_text="Percent; empty: no VAT applicable."
    )
    net_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")]


class InvoiceDelivery(models.Model):
    """When an invoice was e-mailed (a fact about delivery, not part of the invoice)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="deliveries")
    email = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]


class NumberSeries(models.Model):
    """Gapless numbers per organisation (this schema), series and year. The row is locked
    (SELECT ... FOR UPDATE) by the transaction that inserts the document, so a rollback
    returns its number and concurrent issuers queue instead of skipping or repeating."""

    series = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="number_series_year")]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"
