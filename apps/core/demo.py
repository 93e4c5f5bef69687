"""Hooks for `seed_demo`: each module appends a callable(organization=..., stdout=...)
that idempotently adds its demo data inside the demo operator's schema."""

DEMO_SEEDERS: list = []
