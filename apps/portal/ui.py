"""What every page repeats: a charger or 404, a service's ValidationError onto its form,
a command sent to a charger with its outcome flashed as a page message."""

from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from apps.chargers.models import ChargePoint
from apps.csms.commands import InvalidCommand, command_send

# How long a page waits for the charger's answer before it tells the user "no answer".
COMMAND_TIMEOUT = 20


def charger_or_404(identity: str, *, related: tuple = ("location",)) -> ChargePoint:
    return get_object_or_404(ChargePoint.objects.select_related(*related), identity=identity)


def form_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where the form has the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class Sent(NamedTuple):
    """A command's outcome for a page: the charger's answer (None unless it answered) and
    "ok", "invalid", "offline", "timeout" or the error's status. True when answered."""

    answer: dict | None
    status: str

    def __bool__(self) -> bool:
        return self.status == "ok"


def failure_text(charge_point: ChargePoint, result, *, timeout: float = COMMAND_TIMEOUT) -> str:
    if result.status == "offline":
        return f"{charge_point.identity} is not connected"
    if result.status == "timeout":
        return f"no answer within {timeout:g} s"
    error = result.error or {}
    return f"the charger refused it ({error.get('code')}: {error.get('description')})"


def answer_flash(request, action: str, answer: dict, ok: tuple = ("Accepted",)) -> bool:
    """The charger's answer status (with its statusInfo, 2.x) as a page message; True when in `ok`."""
    status = answer.get("status", "answered")
    info = answer.get("statusInfo") or {}
    detail = " ".join(filter(None, [info.get("reasonCode"), info.get("additionalInfo")]))
    text = f"{action}: {status}{f' ({detail})' if detail else ''}."
    if status in ok:
        messages.success(request, text)
        return True
    messages.error(request, text)
    return False


def command_flash(
    request,
    charge_point: ChargePoint,
    action: str,
    payload: dict,
    *,
    ok: tuple | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> Sent:
    """command_send from a page. A command that was not answered is flashed as an error;
    with `ok` (e.g. ("Accepted",)) the answer's status is flashed too."""
    try:
        result = command_send(
            charge_point=charge_point,
            action=action,
            payload=payload,
            user=request.user,
            timeout=timeout,
            source="portal",
        )
    except InvalidCommand as exc:
        messages.error(request, f"{action}: {exc}")
        return Sent(None, "invalid")
    if result.status != "ok":
        messages.error(request, f"{action}: {failure_text(charge_point, result, timeout=timeout)}.")
        return Sent(None, result.status)
    answer = result.response or {}
    if ok is not None:
        answer_flash(request, action, answer, ok=ok)
    return Sent(answer, "ok")
