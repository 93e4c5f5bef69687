"""A fake charger at the command bus seam (apps.csms.commands.command_send)."""

from apps.csms.commands import CommandResult
from apps.csms.services import command_create


class FakeBus:
    """Records each command and answers from `answers`: a status string ("Accepted",
    "Rejected", ...), a whole answer dict, or "offline" / "timeout"; "Accepted" when empty."""

    def __init__(self):
        self.sent: list[dict] = []
        self.answers: list = []

    def __call__(self, *, charge_point, action, payload, user=None, timeout=30, source=""):
        command = command_create(charge_point=charge_point, action=action, payload=payload, source=source)
        self.sent.append({"action": action, **payload})
        answer = self.answers.pop(0) if self.answers else "Accepted"
        if answer in ("offline", "timeout"):
            return CommandResult(status=answer, command=command)
        if isinstance(answer, dict):
            return CommandResult(status="ok", command=command, response=answer)
        if action == "UpdateFirmware" and "location" in payload and answer == "Accepted":
            return CommandResult(status="ok", command=command, response={})  # OCPP 1.6
        return CommandResult(status="ok", command=command, response={"status": answer})
