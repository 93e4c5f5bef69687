"""A fake charger at the command port's bus seam (apps.csms.commands.Bus).

Every command still goes through the real `command_send`: the action and payload are
validated against the charger's version (apps.csms.catalogue), a csms.Command row is
written and its outcome recorded. Only the delivery to a socket is replaced. Use the
`command_bus` fixture (tests/conftest.py); it installs a FakeBus with `bus_use`.
"""

from __future__ import annotations

from collections.abc import Callable

from apps.csms.models import Command

_FAILED = {Command.Status.OFFLINE, Command.Status.TIMEOUT, Command.Status.ERROR}


class Sent(tuple):
    """One delivered command: unpacks as (action, payload) and also reads as the frame's
    flat dict {"action": ..., **payload}, so `bus.sent[-1]["evseId"]`,
    `action, payload = bus.sent[0]` and `bus.sent[-1] == {"action": "Reset", "type": "Soft"}` all work."""

    def __new__(cls, action: str, payload: dict):
        return super().__new__(cls, (action, payload))

    @property
    def action(self) -> str:
        return self[0]

    @property
    def payload(self) -> dict:
        return self[1]

    def as_dict(self) -> dict:
        return {"action": self[0], **self[1]}

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.as_dict()[key]
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        return key in self.as_dict()

    def get(self, key, default=None):
        return self.as_dict().get(key, default)

    def __eq__(self, other) -> bool:
        if isinstance(other, dict):
            return self.as_dict() == other
        return tuple(self) == other

    __hash__ = tuple.__hash__


class FakeBus:
    """Records what is sent and answers like a charger.

    - `answers`: a queue for any action, first in first out;
    - `by_action[action]`: the answer for one action: a value, a list (taken in order,
      the last one repeats) or a callable(payload) -> answer;
    - `status`: a Command.Status every command gets instead of an answer ("offline", ...);
    - `after(charge_point, action, payload, response)`: called with every answer (e.g. to
      run the protocol session's after-command bookkeeping).

    An answer is a response dict, a status string ("Accepted", "Rejected", ...; or
    "offline" / "timeout" / "error" for that outcome) or a (status, response) pair."""

    def __init__(self):
        self.sent: list[Sent] = []
        self.answers: list = []
        self.by_action: dict = {}
        self.status: str = Command.Status.OK
        self.after: Callable | None = None

    def actions(self) -> list[str]:
        return [s.action for s in self.sent]

    def respond(self, action: str, payload: dict):
        if self.answers:
            return self.answers.pop(0)
        answer = self.by_action.get(action, "Accepted")
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        return answer(payload) if callable(answer) else answer

    def deliver(self, *, charge_point, command, payload, timeout) -> dict:
        action = command.action
        self.sent.append(Sent(action, payload))
        if self.status != Command.Status.OK:
            return {"status": self.status, **({"error": {"code": "GenericError"}} if self.status == "error" else {})}
        answer = self.respond(action, payload)
        status = Command.Status.OK
        if isinstance(answer, tuple):
            status, answer = answer
        if isinstance(answer, str) and answer in _FAILED:
            return {"status": answer}
        if isinstance(answer, (str, int)):
            answer = _shape(charge_point, action, payload, answer)
        if status != Command.Status.OK:
            return {"status": status, "error": answer or {}}
        if self.after is not None:
            self.after(charge_point, action, payload, answer)
        return {"status": Command.Status.OK, "response": answer, "latency_ms": 1}


def _shape(charge_point, action: str, payload: dict, answer) -> dict:
    """A bare status as the answer of `action`, in the charger's version."""
    if action == "GetLocalListVersion":
        return {"listVersion": answer}
    if action == "UpdateFirmware" and not charge_point.is_ocpp2 and answer == "Accepted":
        return {}  # 1.6 UpdateFirmware.conf has no status
    return {"status": answer}
