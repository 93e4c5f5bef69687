"""Drive any OCPP session class with a fake connection: frames in, frames out, database state.

Database calls run inline on the test's connection (inside its rolled-back transaction)
instead of in a worker thread, and inbound frames are driven without an event loop
(`drive`): inside one, Django would hand out a connection that cannot see the test's data.
Outbound commands (`command`) answer from a queue the test fills.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.db import connection
from django_tenants.utils import schema_context

from apps.csms.handlers.base import ChargerContext


async def inline_db(schema, fn, /, **kwargs):
    with schema_context(schema):
        return fn(**kwargs)


def drive(coro):
    """Run a coroutine that never really suspends (inline database, list-backed socket)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine waited for something")


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Harness:
    def __init__(self, cp, session_cls, status: str = "Accepted"):
        self.cp = cp
        self.sent: list = []
        self.log: list = []
        ctx = ChargerContext(
            schema=connection.schema_name, charge_point_id=cp.pk, identity=cp.identity, registration_status=status
        )
        self.session = session_cls(ctx=ctx, send=self._send, db=inline_db, log=self.log.append)

    async def _send(self, text):
        self.sent.append(json.loads(text))

    def raw(self, text: str) -> list:
        before = len(self.sent)
        drive(self.session.route_message(text))
        return self.sent[before:]

    def call(self, action: str, payload: dict, uid: str = "m-1") -> list:
        replies = self.raw(json.dumps([2, uid, action, payload]))
        assert len(replies) == 1, replies
        return replies[0]

    def ok(self, action: str, payload: dict) -> dict:
        reply = self.call(action, payload)
        assert reply[0] == 3, reply
        return reply[2]

    def error(self, action: str, payload: dict) -> tuple[str, str]:
        reply = self.call(action, payload)
        assert reply[0] == 4, reply
        return reply[2], reply[3]

    def answered(self, action: str, payload: dict, answer: dict) -> None:
        """Run the session's bookkeeping for a command the charger answered (`after_command`)."""
        from apps.csms.handlers.base import CallOutcome
        from apps.csms.protocol import CALLRESULT, Frame

        outcome = CallOutcome(frame=Frame(CALLRESULT, "c-1", payload=answer), latency_ms=5)
        drive(self.session.after_command(action, payload, outcome))
