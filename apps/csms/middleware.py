"""ASGI middleware for the OCPP endpoints: which organisation is this charger talking to?

`/ocpp/<identity>` takes the organisation from the Host header (django-tenants'
Domain table, as the HTTP middleware does); `/ocpp/<org slug>/<identity>` works
on any host, for shared endpoints. Unknown host or organisation, or a suspended
one: the handshake is refused with 404 before a consumer exists.
"""

from __future__ import annotations

import asyncio
import time

from django_tenants.utils import remove_www

from apps.csms.db import run_in_public
from apps.tenants.models import Domain, Organization


def _host(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return remove_www(value.decode("latin-1").split(":")[0].strip().lower())
    return ""


def resolve_tenant(*, host: str, org_slug: str | None) -> Organization | None:
    """Call in the public schema."""
    if org_slug is not None:
        org = Organization.objects.filter(slug=org_slug).first()
    else:
        domain = Domain.objects.select_related("tenant").filter(domain=host).first()
        org = domain.tenant if domain else None
    if org is None or org.is_public or org.is_suspended:
        return None
    return org


async def deny(scope, send, status: int, headers: list | None = None) -> None:
    """Refuse a websocket handshake with an HTTP status (ASGI websocket denial response);
    servers without the extension can only say 403."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain"), *(headers or [])],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b""})
    else:
        await send({"type": "websocket.close", "code": 1008})


# A reconnect storm asks the same question thousands of times a second: remember found
# organisations briefly. A suspension therefore refuses new handshakes within this many
# seconds (it never cut open connections anyway). Misses are not cached: a made-up host
# must not fill the table, and a new organisation must work at once.
TENANT_CACHE_SECONDS = 10.0
_TENANT_CACHE_MAX = 10_000
_tenants: dict[tuple[str, str | None], tuple[float, dict]] = {}
# Lookups in flight: the storm's first few hundred handshakes all arrive before the first
# lookup has answered, and each would otherwise queue its own database call (measured: a
# tenth of a core in a 5,000-charger restart storm). They share the one lookup instead.
_resolving: dict[tuple[str, str | None], asyncio.Task] = {}


async def _tenant(host: str, org_slug: str | None) -> dict | None:
    key = (host if org_slug is None else "", org_slug)
    hit = _tenants.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    loop = asyncio.get_running_loop()
    task = _resolving.get(key)
    if task is None or task.get_loop() is not loop:
        # A task of its own, not the first caller's coroutine: that caller's charger
        # hanging up must not cancel the lookup the others are waiting for.
        task = loop.create_task(_resolve(key, host, org_slug))
        _resolving[key] = task
        task.add_done_callback(lambda done: _resolving.pop(key) if _resolving.get(key) is done else None)
    return await asyncio.shield(task)


async def _resolve(key: tuple[str, str | None], host: str, org_slug: str | None) -> dict | None:
    org = await run_in_public(resolve_tenant, host=host, org_slug=org_slug)
    if org is None:
        _tenants.pop(key, None)
        return None
    tenant = {"schema": org.schema_name, "organization_id": org.pk, "slug": org.slug}
    if len(_tenants) >= _TENANT_CACHE_MAX:
        _tenants.clear()
    _tenants[key] = (time.monotonic() + TENANT_CACHE_SECONDS, tenant)
    return tenant


class OcppTenantMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        kwargs = scope.get("url_route", {}).get("kwargs", {})
        tenant = await _tenant(_host(scope), kwargs.get("org"))
        if tenant is None:
            message = await receive()
            if message["type"] == "websocket.connect":
                await deny(scope, send, 404)
            return
        scope = dict(scope, ocpp_tenant=dict(tenant))
        return await self.inner(scope, receive, send)
