"""Small database helpers shared by the apps' services."""

from contextlib import nullcontext

from django.db import connection, transaction


def savepoint_if_nested():
    """For a write made of one statement (atomic by itself): a savepoint when the caller is
    inside a transaction, so that a refused statement leaves that transaction usable (e.g.
    to retry a batch's items one by one); nothing in autocommit, where BEGIN and COMMIT
    would only add two round trips."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()
