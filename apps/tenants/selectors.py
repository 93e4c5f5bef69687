"""Reads for organisations."""

from django.db import connection

from apps.tenants.models import Organization


def current_organization() -> Organization | None:
    """The organisation whose schema the connection is on.

    Inside a request this is the tenant the middleware resolved; inside
    `schema_context` django-tenants only knows the schema name, so look it up.
    """
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Organization):
        return tenant
    schema = getattr(connection, "schema_name", None)
    if not schema:
        return None
    return Organization.objects.filter(schema_name=schema).first()


def organization_children(*, reseller: Organization):
    return Organization.objects.filter(parent=reseller).prefetch_related("domains").order_by("name")
