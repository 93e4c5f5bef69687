"""Small database helpers shared by the apps' services."""

from collections.abc import Sequence
from contextlib import nullcontext

from django.db import connection, transaction


def savepoint_if_nested():
    """For a write made of one statement (atomic by itself): a savepoint when the caller is
    inside a transaction, so that a refused statement leaves that transaction usable (e.g.
    to retry a batch's items one by one); nothing in autocommit, where BEGIN and COMMIT
    would only add two round trips."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def update_returning(model, values: dict, *, where: str, params: Sequence, returning: str) -> tuple | None:
    """One `UPDATE <model's table> SET <values> WHERE <where> RETURNING <returning>`: the
    first returned row, or None. `values` maps field names to values, prepared for the
    database as the ORM prepares them; `where` and `returning` are SQL over the table's
    columns. For hot paths where a queryset update plus a read back (two round trips and
    two compiled queries), or a locked instance saved back, cost too much."""
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE {where} RETURNING {returning}",
            [*(f.get_db_prep_save(values[f.name], connection) for f in fields), *params],
        )
        return cursor.fetchone()
