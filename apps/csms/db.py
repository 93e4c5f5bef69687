"""Database access from the OCPP event loop.

Channels' `database_sync_to_async` is thread-sensitive by default and consumers
run outside any ThreadSensitiveContext, so every charger's queries would queue
behind one thread. The central system uses a pool of its own instead
(OCPP_DB_THREADS, default 8): one charger's calls still run in order because its
session awaits each one, while different chargers proceed in parallel. Each
thread keeps its own connection for CONN_MAX_AGE seconds.
"""

import os
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django_tenants.utils import schema_context

_executor = ThreadPoolExecutor(max_workers=int(os.environ.get("OCPP_DB_THREADS", "8")),
                               thread_name_prefix="ocpp-db")


def _call_in_schema(schema: str, fn, kwargs: dict):
    # A schema set once per connection would leak across calls sharing the thread.
    with schema_context(schema):
        return fn(**kwargs)


_runner = DatabaseSyncToAsync(_call_in_schema, thread_sensitive=False, executor=_executor)


async def run_in_schema(schema: str, fn, /, **kwargs):
    """Run `fn(**kwargs)` in a database thread, inside the organisation's schema."""
    return await _runner(schema, fn, kwargs)


async def run_in_public(fn, /, **kwargs):
    return await _runner(settings.PUBLIC_SCHEMA_NAME, fn, kwargs)
