"""apps.core.postgresql_backend: `SET search_path` only when the session does not already
have the wanted path, and never trusting a path that a rollback may have undone (that would
run an organisation's queries in another organisation's schema)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create


def _sets(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SET search_path")]


def _server_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def test_the_path_is_set_once_per_schema_switch(tenant_a, tenant_b):
    connection.set_tenant(tenant_a)
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            ChargePoint.objects.count()
    assert len(_sets(ctx)) <= 1 and len(ctx.captured_queries) - len(_sets(ctx)) == 3

    with CaptureQueriesContext(connection) as ctx:
        ChargePoint.objects.count()
    assert _sets(ctx) == []  # still in alpha: nothing to set

    connection.set_tenant(tenant_b)
    with CaptureQueriesContext(connection) as ctx:
        ChargePoint.objects.count()
        ChargePoint.objects.count()
    assert len(_sets(ctx)) == 1 and tenant_b.schema_name in _sets(ctx)[0]
    assert _server_path().startswith(tenant_b.schema_name)

    connection.set_tenant(tenant_a)
    assert _server_path().startswith(tenant_a.schema_name)


@pytest.mark.parametrize("rollback", ["savepoint", "exception"])
def test_a_path_undone_by_a_rollback_is_set_again(tenant_a, tenant_b, rollback):
    """The test runs inside a transaction, so the inner atomic blocks are savepoints: the SET
    to alpha inside one is undone by its rollback, and the session is back in beta."""
    connection.set_tenant(tenant_b)
    charge_point_create(identity="ONLY-IN-BETA", password="a-good-charger-password")
    assert _server_path().startswith(tenant_b.schema_name)

    # Switch inside the savepoint: its own SAVEPOINT statement still runs in beta, so the SET
    # to alpha comes after it and is what the rollback undoes.
    if rollback == "savepoint":
        sid = transaction.savepoint()
        connection.set_tenant(tenant_a)
        assert ChargePoint.objects.filter(identity="ONLY-IN-BETA").count() == 0
        transaction.savepoint_rollback(sid)
    else:
        with pytest.raises(RuntimeError), transaction.atomic():
            connection.set_tenant(tenant_a)
            assert ChargePoint.objects.filter(identity="ONLY-IN-BETA").count() == 0
            raise RuntimeError("rolled back")
    # The server went back to beta's path; the next alpha query must not run there.
    assert ChargePoint.objects.filter(identity="ONLY-IN-BETA").count() == 0
    assert _server_path().startswith(tenant_a.schema_name)


def test_a_new_connection_sets_the_path_again(tenant_a):
    """In a thread of its own (a connection outside the test's transaction), closed and
    reopened between queries: the reopened session starts without the path."""

    def queries():
        from django.db import connection as conn

        try:
            conn.set_tenant(tenant_a)
            with CaptureQueriesContext(conn) as first:
                ChargePoint.objects.count()
                ChargePoint.objects.count()
            conn.close()
            with CaptureQueriesContext(conn) as reopened:
                ChargePoint.objects.count()
                with conn.cursor() as cursor:
                    cursor.execute("SHOW search_path")
                    path = cursor.fetchone()[0]
            return len(_sets(first)), len(_sets(reopened)), path
        finally:
            conn.close()

    with ThreadPoolExecutor(1) as pool:
        first, reopened, path = pool.submit(queries).result()
    assert (first, reopened) == (1, 1) and path.startswith(tenant_a.schema_name)
