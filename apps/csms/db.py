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

Calls go straight to `loop.run_in_executor`, not through asgiref's SyncToAsync: the
pool threads need none of its machinery (thread-sensitive routing, context copying;
Django's database connections are thread-local anyway), and every OCPP message makes
at least one such call.

Command bookkeeping (recording a charger's answer) has a small pool of its own
(OCPP_COMMAND_DB_THREADS, default 2): an API caller waits for it, and it must not
queue behind a backlog of meter values.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django_tenants.utils import schema_context

_executor = ThreadPoolExecutor(max_workers=settings.OCPP_DB_THREADS, thread_name_prefix="ocpp-db")
_command_executor = ThreadPoolExecutor(max_workers=settings.OCPP_COMMAND_DB_THREADS, thread_name_prefix="ocpp-cmd-db")


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
        # A schema set once per connection would leak across calls sharing the thread. The
        # database backend sends `SET search_path` only when the session's path differs
        # (apps.core.postgresql_backend), so consecutive calls for one organisation skip it.
        with schema_context(schema):
            return fn(**kwargs)
    finally:
        _drop_if_broken()


async def run_in_schema(schema: str, fn, /, **kwargs):
    """Run `fn(**kwargs)` in a database thread, inside the organisation's schema."""
    return await asyncio.get_running_loop().run_in_executor(_executor, _call_in_schema, schema, fn, kwargs)


async def run_in_public(fn, /, **kwargs):
    return await run_in_schema(settings.PUBLIC_SCHEMA_NAME, fn, **kwargs)


async def run_command_bookkeeping(schema: str, fn, /, **kwargs):
    """run_in_schema on the command pool, for writes an API caller is waiting for."""
    return await asyncio.get_running_loop().run_in_executor(_command_executor, _call_in_schema, schema, fn, kwargs)
