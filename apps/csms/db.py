"""Database access from the OCPP event loop.

Channels' `database_sync_to_async` is thread-sensitive by default and consumers
run outside any ThreadSensitiveContext, so every charger's queries would queue
behind one thread. The central system uses a pool of its own instead
(OCPP_DB_THREADS, default 8): one charger's calls still run in order because its
session awaits each one, while different chargers proceed in parallel.

The pool's threads keep their connections open whatever CONN_MAX_AGE says (like
any long-running worker): with CONN_MAX_AGE=0 every OCPP message would open a new
PostgreSQL connection, which measured ten times slower in a reconnect storm of
400 chargers. A connection that saw an error and is no longer usable is replaced.
"""

import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django_tenants.utils import schema_context

_executor = ThreadPoolExecutor(max_workers=int(os.environ.get("OCPP_DB_THREADS", "8")), thread_name_prefix="ocpp-db")


def _drop_if_broken() -> None:
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.connection is None:
        return
    if conn.in_atomic_block or not conn.get_autocommit():
        # A service left a transaction open: never let it leak into the next call.
        conn.close()
    elif conn.errors_occurred:
        if conn.is_usable():
            conn.errors_occurred = False
        else:
            conn.close()


def _call_in_schema(schema: str, fn, kwargs: dict):
    _drop_if_broken()
    try:
        # A schema set once per connection would leak across calls sharing the thread.
        with schema_context(schema):
            return fn(**kwargs)
    finally:
        _drop_if_broken()


_runner = SyncToAsync(_call_in_schema, thread_sensitive=False, executor=_executor)


async def run_in_schema(schema: str, fn, /, **kwargs):
    """Run `fn(**kwargs)` in a database thread, inside the organisation's schema."""
    return await _runner(schema, fn, kwargs)


async def run_in_public(fn, /, **kwargs):
    return await _runner(settings.PUBLIC_SCHEMA_NAME, fn, kwargs)
