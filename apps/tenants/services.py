"""Writes for organisations and their domains."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.accounts.services import user_create
from apps.tenants.models import PUBLIC_SLUG, Domain, Organization


def schema_name_for(slug: str) -> str:
    # Schema names must be valid identifiers; hyphens become underscores.
    return "org_" + slug.replace("-", "_")


def primary_domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def platform_ensure(*, extra_domains: tuple[str, ...] = ("127.0.0.1",)) -> Organization:
    """Idempotently create the public-schema organisation and the platform's host names."""
    org, _ = Organization.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "EVzone platform", "slug": PUBLIC_SLUG, "kind": Organization.Kind.PLATFORM},
    )
    for i, host in enumerate((settings.BASE_DOMAIN, *extra_domains)):
        Domain.objects.get_or_create(domain=host, defaults={"tenant": org, "is_primary": i == 0})
    return org


def organization_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    kind: str = Organization.Kind.OPERATOR,
    parent: Organization | None = None,
    admin_name: str = "",
    admin_password: str | None = None,
    country: str = "DE",
    currency: str = "EUR",
    timezone: str = "Europe/Berlin",
    **details,
) -> Organization:
    """Create an organisation: its schema, its primary domain and its first admin.

    The admin gets an invitation e-mail to set a password unless one is given.
    PostgreSQL DDL is transactional, so a failure anywhere leaves nothing behind.
    """
    if kind not in (Organization.Kind.OPERATOR, Organization.Kind.RESELLER):
        raise ValidationError({"kind": "An organisation is an operator or a reseller."})
    org = Organization(
        name=name,
        slug=slug,
        kind=kind,
        parent=parent,
        schema_name=schema_name_for(slug),
        country=country,
        currency=currency,
        timezone=timezone,
        **details,
    )
    org.full_clean()
    domain = Domain(domain=primary_domain_for(slug), is_primary=True)
    # django-tenants creates schemas only from the public schema; a reseller calls
    # this from its own portal, i.e. from inside its schema.
    with schema_context(settings.PUBLIC_SCHEMA_NAME), transaction.atomic():
        if Domain.objects.filter(domain=domain.domain).exists():
            raise ValidationError({"slug": f"The host name {domain.domain} is taken."})
        org.save(verbosity=0)  # creates and migrates the schema (auto_create_schema)
        domain.tenant = org
        domain.save()
        admin_role = Role.RESELLER_ADMIN if kind == Organization.Kind.RESELLER else Role.OPERATOR_ADMIN
        with schema_context(org.schema_name):
            base_url = _base_url(domain.domain)
            user_create(
                email=admin_email, full_name=admin_name, role=admin_role, password=admin_password, base_url=base_url
            )
    return org


def _base_url(host: str) -> str:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{host}{port}"


def organization_set_status(*, organization: Organization, status: str) -> Organization:
    if organization.is_public:
        raise ValidationError("The platform itself cannot be suspended.")
    if status not in Organization.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    Organization.objects.filter(pk=organization.pk).update(status=status)
    organization.status = status
    return organization


def domain_add(*, organization: Organization, domain: str) -> Domain:
    """Attach a custom domain (the operator points its DNS at EVzone)."""
    domain = domain.strip().lower().rstrip(".")
    if Domain.objects.filter(domain=domain).exists():
        raise ValidationError({"domain": "This host name is already in use."})
    obj = Domain(tenant=organization, domain=domain, is_primary=False)
    obj.full_clean()
    obj.save()
    return obj
