import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from apps.core.money import CURRENCIES

PUBLIC_SLUG = "platform"

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #0a7d5a.")
iso_country = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 code such as DE.")
slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,40}$",
    "Lower-case letters, digits and hyphens, starting with a letter (it becomes a host name).",
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code.")


class Organization(TenantMixin):
    """A white-label organisation: an operator (CPO) or a reseller. One PostgreSQL schema each."""

    class Kind(models.TextChoices):
        PLATFORM = "platform", "Platform"
        RESELLER = "reseller", "Reseller"
        OPERATOR = "operator", "Operator"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=41, unique=True, validators=[slug_validator])
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OPERATOR)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"kind": "reseller"},
        help_text="The reseller that sells EVzone to this organisation, if any.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    legal_name = models.CharField(max_length=200, blank=True)
    registration_number = models.CharField(max_length=64, blank=True)
    vat_number = models.CharField(max_length=32, blank=True)
    address = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="DE", validators=[iso_country])
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    timezone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_timezone])
    support_email = models.EmailField(blank=True)

    logo = models.ImageField(upload_to="logos/", blank=True)
    primary_colour = models.CharField(max_length=7, default="#0a7d5a", validators=[hex_colour])

    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent__isnull=False, kind="reseller"),
                name="reseller_has_no_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    def clean(self) -> None:
        if self.parent_id and self.parent and self.parent.kind != self.Kind.RESELLER:
            raise ValidationError({"parent": "The parent must be a reseller."})
        if self.parent_id and self.kind != self.Kind.OPERATOR:
            raise ValidationError({"parent": "Only operators have a parent reseller."})

    @property
    def primary_domain(self) -> "Domain | None":
        return self.domains.filter(is_primary=True).first()


class Domain(DomainMixin):
    """Host names an organisation answers on: <slug>.<BASE_DOMAIN> and custom domains."""

    class Meta:
        ordering = ["-is_primary", "domain"]

    def __str__(self) -> str:
        return self.domain
