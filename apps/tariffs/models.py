"""Tariffs (tenant schema): everything an OCPI 2.2.1 Tariff can say, plus EVzone's idle fee,
customer groups and assignments of tariffs to where and to whom they apply.

The OCPI structure is kept one-to-one (Tariff -> ordered TariffElements -> ordered
PriceComponents + optional TariffRestriction) so that import and export round-trip
exactly; `apps.tariffs.ocpi` converts in both directions.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apps.tenants.models import validate_currency

DIMENSION_CHOICES = [(d, d) for d in ("ENERGY", "FLAT", "PARKING_TIME", "TIME")]
iso_country = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 code such as DE.")
party_id_validator = RegexValidator(r"^[A-Za-z0-9]{3}$", "Three letters or digits (ISO 15118 party ID).")

# OCPI numbers become decimals with room for sub-cent prices (0.0375 KWD/kWh) and fine VAT rates (5.2 %).
MONEY = {"max_digits": 16, "decimal_places": 6}
QUANTITY = {"max_digits": 12, "decimal_places": 4}


def new_ocpi_id() -> str:
    return str(uuid.uuid4())


class Tariff(models.Model):
    class Type(models.TextChoices):
        AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
        PROFILE_CHEAP = "PROFILE_CHEAP"
        PROFILE_FAST = "PROFILE_FAST"
        PROFILE_GREEN = "PROFILE_GREEN"
        REGULAR = "REGULAR"

    name = models.CharField(max_length=120, blank=True, help_text="Internal name; OCPI has none.")
    # OCPI identity. country_code/party_id are mandatory in OCPI but an operator that does not
    # roam has none yet; export omits them when blank.
    ocpi_id = models.CharField("OCPI id", max_length=36, default=new_ocpi_id)
    country_code = models.CharField(max_length=2, blank=True, validators=[iso_country])
    party_id = models.CharField(max_length=3, blank=True, validators=[party_id_validator])
    currency = models.CharField(max_length=3, validators=[validate_currency])
    type = models.CharField(max_length=16, choices=Type.choices, blank=True)
    tariff_alt_url = models.URLField(max_length=255, blank=True)
    min_price_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    min_price_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    max_price_excl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    max_price_incl_vat = models.DecimalField(null=True, blank=True, **MONEY)
    start_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)
    energy_mix = models.JSONField(null=True, blank=True, help_text="OCPI EnergyMix object, stored as given.")
    last_updated = models.DateTimeField(default=timezone.now)

    # EVzone extension: idle fee per hour of parking once `idle_grace_minutes` after the end of
    # charging have passed. OCPI cannot express it (its durations count from the session start).
    idle_fee_per_hour = models.DecimalField(null=True, blank=True, **MONEY)
    idle_fee_vat = models.DecimalField(null=True, blank=True, max_digits=7, decimal_places=4)
    idle_grace_minutes = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["country_code", "party_id", "ocpi_id"], name="tariff_ocpi_identity"),
            models.CheckConstraint(
                condition=models.Q(min_price_incl_vat__isnull=True) | models.Q(min_price_excl_vat__isnull=False),
                name="tariff_min_price_has_excl",
            ),
            models.CheckConstraint(
                condition=models.Q(max_price_incl_vat__isnull=True) | models.Q(max_price_excl_vat__isnull=False),
                name="tariff_max_price_has_excl",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Tariff {self.ocpi_id}"


class TariffAltText(models.Model):
    """OCPI DisplayText: one language of the human-readable tariff description."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="alt_texts")
    position = models.PositiveSmallIntegerField(default=0)
    language = models.CharField(max_length=2)
    text = models.CharField(max_length=512)

    class Meta:
        ordering = ["tariff", "position"]


class TariffElement(models.Model):
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="elements")
    # Order matters in OCPI: per dimension the first matching element wins.
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["tariff", "position"]
        constraints = [models.UniqueConstraint(fields=["tariff", "position"], name="tariff_element_position")]

    def __str__(self) -> str:
        return f"{self.tariff} #{self.position}"


class PriceComponent(models.Model):
    element = models.ForeignKey(TariffElement, on_delete=models.CASCADE, related_name="price_components")
    position = models.PositiveSmallIntegerField(default=0)
    type = models.CharField(max_length=12, choices=DIMENSION_CHOICES)
    price = models.DecimalField(
        validators=[MinValueValidator(0)], help_text="Excl. VAT, per kWh / hour / session.", **MONEY
    )
    # NULL means "no VAT applicable", which OCPI distinguishes from 0 %.
    vat = models.DecimalField(null=True, blank=True, max_digits=7, decimal_places=4, validators=[MinValueValidator(0)])
    step_size = models.PositiveIntegerField(help_text="Wh for ENERGY, seconds for TIME and PARKING_TIME.")

    class Meta:
        ordering = ["element", "position"]


class TariffRestriction(models.Model):
    """OCPI TariffRestrictions. A separate row so that "no restrictions" and "{}" stay distinct."""

    class Reservation(models.TextChoices):
        RESERVATION = "RESERVATION"
        RESERVATION_EXPIRES = "RESERVATION_EXPIRES"

    element = models.OneToOneField(TariffElement, on_delete=models.CASCADE, related_name="restrictions")
    start_time = models.TimeField(null=True, blank=True, help_text="Local time of day, inclusive.")
    end_time = models.TimeField(null=True, blank=True, help_text="Local time of day, exclusive; 00:00 = end of day.")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True, help_text="Exclusive.")
    min_kwh = models.DecimalField(null=True, blank=True, **QUANTITY)
    max_kwh = models.DecimalField(null=True, blank=True, **QUANTITY)
    min_current = models.DecimalField(null=True, blank=True, **QUANTITY)
    max_current = models.DecimalField(null=True, blank=True, **QUANTITY)
    min_power = models.DecimalField(null=True, blank=True, **QUANTITY)
    max_power = models.DecimalField(null=True, blank=True, **QUANTITY)
    min_duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds, inclusive.")
    max_duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds, exclusive.")
    day_of_week = models.JSONField(default=list, blank=True, help_text='e.g. ["SATURDAY", "SUNDAY"]')
    reservation = models.CharField(max_length=20, choices=Reservation.choices, blank=True)


class CustomerGroup(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", "Public (ad hoc)"
        MEMBER = "member", "Member"
        FLEET = "fleet", "Fleet"
        ROAMING_PARTNER = "roaming_partner", "Roaming partner"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Drivers who get this group's prices (a card's owner decides for sessions).
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="customer_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TariffAssignment(models.Model):
    """Which tariff applies where and to whom.

    Precedence (selectors.tariff_effective), the first difference decides:
      1. an assignment for one of the driver's customer groups beats one for everybody
         (a negotiated contract price is what the customer agreed to);
      2. the more specific place: EVSE > charger group > location > whole organisation;
      3. higher `priority`;
      4. the later `valid_from`;
      5. the lower id (so the answer is always a single tariff).
    Only assignments valid at the moment asked about (valid_from <= t < valid_until) count.
    """

    class Scope(models.TextChoices):
        ORGANIZATION = "organization", "Whole organisation"
        LOCATION = "location", "Location"
        CHARGER_GROUP = "charger_group", "Charger group"
        EVSE = "evse", "EVSE"

    SPECIFICITY = {Scope.EVSE: 3, Scope.CHARGER_GROUP: 2, Scope.LOCATION: 1, Scope.ORGANIZATION: 0}

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="assignments")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    # Loose reference on purpose: apps.chargers (Location, EVSE, groups) is being built in
    # parallel; a ForeignKey here would couple the two migrations. The value is the target's
    # primary key or code as a string (EVSE: "<charge point identity>/<evse id>"); a later
    # change replaces it with real foreign keys.
    scope_ref = models.CharField(max_length=100, blank=True, help_text="Empty for the whole organisation.")
    customer_group = models.ForeignKey(
        CustomerGroup,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
        help_text="Empty: everybody.",
    )
    priority = models.IntegerField(default=0)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scope", "scope_ref", "-priority"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="organization", scope_ref="")
                | (~models.Q(scope="organization") & ~models.Q(scope_ref="")),
                name="tariff_assignment_scope_ref",
            ),
        ]

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": "Must be after valid_from."})
