"""Reads for organisations."""

from apps.core.tenancy import current_tenant
from apps.tenants.models import Organization


def current_organization() -> Organization | None:
    """The organisation whose schema the connection is on (apps.core.tenancy.current_tenant)."""
    return current_tenant()


def organization_children(*, reseller: Organization):
    return Organization.objects.filter(parent=reseller).prefetch_related("domains").order_by("name")
