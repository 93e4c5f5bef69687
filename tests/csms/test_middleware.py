"""The OCPP tenant middleware's lookup: cached, and shared by handshakes arriving together."""

import asyncio

from apps.csms import middleware


def test_concurrent_handshakes_share_one_tenant_lookup(tenant_a, monkeypatch):
    monkeypatch.setattr(middleware, "_tenants", {})
    calls = []

    async def slow_public(fn, **kwargs):
        calls.append(kwargs)
        await asyncio.sleep(0.05)  # the database thread's answer is still on its way
        return tenant_a

    monkeypatch.setattr(middleware, "run_in_public", slow_public)

    async def storm():
        first = await asyncio.gather(*(middleware._tenant("", tenant_a.slug) for _ in range(50)))
        return first, await middleware._tenant("", tenant_a.slug)

    first, later = asyncio.run(storm())
    assert calls == [{"host": "", "org_slug": tenant_a.slug}]
    assert all(
        t == {"schema": tenant_a.schema_name, "organization_id": tenant_a.pk, "slug": tenant_a.slug} for t in first
    )
    assert later == first[0] and middleware._resolving == {}


def test_a_lookup_survives_the_first_caller_hanging_up(tenant_a, monkeypatch):
    monkeypatch.setattr(middleware, "_tenants", {})

    async def slow_public(fn, **kwargs):
        await asyncio.sleep(0.05)
        return None  # unknown organisation: not cached, but shared while in flight

    monkeypatch.setattr(middleware, "run_in_public", slow_public)

    async def scenario():
        gone = asyncio.ensure_future(middleware._tenant("nobody.example", None))
        waiting = asyncio.ensure_future(middleware._tenant("nobody.example", None))
        await asyncio.sleep(0.01)
        gone.cancel()
        return await waiting

    assert asyncio.run(scenario()) is None
    assert middleware._resolving == {} and middleware._tenants == {}
