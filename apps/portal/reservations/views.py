"""Reservations of one charger (/chargers/<identity>/reservations/): reserve a connector
(1.6) or an EVSE (2.x) for a card for a while, see what became of earlier ones, cancel."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.charging.models import Reservation
from apps.charging.reservations import ReservationError, reservation_cancel_request, reservation_make
from apps.csms.commands import InvalidCommand
from apps.portal import ui
from apps.portal.reservations.forms import ReserveForm


def _outcome(result) -> tuple[bool, str]:
    if result.status == "ok":
        answer = (result.response or {}).get("status", "?")
        return answer == "Accepted", f"The charger answered {answer}."
    return False, {
        "offline": "The charger is offline.",
        "timeout": "The charger did not answer in time.",
    }.get(result.status, f"The charger refused the command ({(result.error or {}).get('code', 'error')}).")


@role_required("reservations.view")
def charger_reservations(request, identity):
    cp = ui.charger_or_404(identity)
    evses = sorted({c.evse_id for c in cp.connectors.all() if c.evse_id}) or [1]
    context = {
        "cp": cp,
        "v2": cp.is_ocpp2,
        "evses": evses,
        "form": ReserveForm(initial={"evse_id": evses[0]}),
        "reservations": Reservation.objects.filter(charge_point=cp).order_by("-created_at")[:50],
        "can_operate": allowed(request.user, "reservations.change"),
    }
    return render(request, "portal/chargers/reservations.html", context)


@role_required("reservations.change")
@require_POST
def charger_reserve(request, identity):
    cp = ui.charger_or_404(identity)
    form = ReserveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("portal:charger_reservations", identity=identity)
    data = form.cleaned_data
    try:
        reservation, result = reservation_make(
            charge_point=cp,
            evse_id=data["evse_id"],
            id_token=data["id_token"],
            minutes=data["minutes"],
            user=request.user,
        )
    except (ReservationError, InvalidCommand) as exc:
        messages.error(request, str(exc))
        return redirect("portal:charger_reservations", identity=identity)
    ok, text = _outcome(result)
    (messages.success if ok else messages.error)(request, f"Reservation #{reservation.reservation_id}: {text}")
    return redirect("portal:charger_reservations", identity=identity)


@role_required("reservations.change")
@require_POST
def charger_reservation_cancel(request, identity, reservation_id):
    cp = ui.charger_or_404(identity)
    reservation = get_object_or_404(Reservation, charge_point=cp, reservation_id=reservation_id)
    try:
        result = reservation_cancel_request(reservation=reservation, user=request.user)
    except (ReservationError, InvalidCommand) as exc:
        messages.error(request, str(exc))
        return redirect("portal:charger_reservations", identity=identity)
    ok, text = _outcome(result)
    (messages.success if ok else messages.error)(request, f"Cancelling #{reservation_id}: {text}")
    return redirect("portal:charger_reservations", identity=identity)
