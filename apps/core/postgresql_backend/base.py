"""django-tenants' PostgreSQL backend, without a `SET search_path` before every query.

django-tenants switches schemas by sending `SET search_path` on every cursor, so each ORM
query costs two round trips. Under OCPP load that doubled the database pool's round trips,
and each round trip is a GIL release and re-acquire that queues behind the other threads.

Its own remedy, TENANT_LIMIT_SET_CALLS, sets the path once per schema switch and then trusts
it, but PostgreSQL undoes a SET made inside a transaction (or after a savepoint) that is then
rolled back. The queries after such a rollback would run in the schema the session had
before: possibly another organisation's.

This wrapper remembers the search path the server session really has and skips the SET only
when it is the one wanted. Every rollback (transaction or savepoint) and every new or closed
connection forgets it, so the next cursor sets the path again. A SET that fails (an aborted
transaction) is not remembered either.
"""

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The search path in effect on the server session, as a tuple; None when unknown.
        self._server_search_path = None

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path or not self.schema_name:
            # Re-entry while setting it, or no schema chosen (django-tenants raises for that).
            return super()._handle_search_path(cursor)
        wanted = tuple(self._get_cursor_search_paths())
        if wanted == self._server_search_path:
            return None
        # Forces django-tenants to send the SET even under TENANT_LIMIT_SET_CALLS.
        self.search_path_set_schemas = None
        super()._handle_search_path(cursor)
        applied = self.search_path_set_schemas
        self._server_search_path = tuple(applied) if applied is not None else None
        return None

    def _forget_search_path(self):
        self._server_search_path = None

    def connect(self):
        self._forget_search_path()
        super().connect()
        self._forget_search_path()

    def _close(self):
        self._forget_search_path()
        super()._close()

    # Forgotten after the statement, not before: the ROLLBACK TO SAVEPOINT runs on a cursor of
    # its own, whose SET (were the path unknown) would be remembered and then undone by it.
    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._forget_search_path()

    def _savepoint_rollback(self, sid):
        try:
            super()._savepoint_rollback(sid)
        finally:
            self._forget_search_path()
