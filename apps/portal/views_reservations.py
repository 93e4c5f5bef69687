"""Reservations of one charger (/chargers/<identity>/reservations/): reserve a connector
(1.6) or an EVSE (2.x) for a card for a while, see what became of earlier ones, cancel."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from apps.accounts.permissions import CAN_OPERATE_CHARGERS, CAN_VIEW_PORTAL, role_required
from apps.chargers.models import ChargePoint
from apps.charging.models import IdToken, Reservation
from apps.charging.reservations import MAX_MINUTES, ReservationError, reservation_cancel_request, reservation_make
from apps.csms.commands import InvalidCommand


class ReserveForm(forms.Form):
    id_token = forms.CharField(label="Card (id token)", max_length=255)
    evse_id = forms.IntegerField(label="EVSE / connector", min_value=0)
    minutes = forms.IntegerField(label="For (minutes)", min_value=1, max_value=MAX_MINUTES, initial=30)

    def clean_id_token(self):
        token = IdToken.objects.filter(id_token__iexact=self.cleaned_data["id_token"].strip()).first()
        if token is None:
            raise forms.ValidationError("No card with this id token.")
        return token


def _outcome(result) -> tuple[bool, str]:
    if result.status == "ok":
        answer = (result.response or {}).get("status", "?")
        return answer == "Accepted", f"The charger answered {answer}."
    return False, {
        "offline": "The charger is offline.",
        "timeout": "The charger did not answer in time.",
    }.get(result.status, f"The charger refused the command ({(result.error or {}).get('code', 'error')}).")


@role_required(CAN_VIEW_PORTAL)
def charger_reservations(request, identity):
    cp = get_object_or_404(ChargePoint, identity=identity)
    evses = sorted({c.evse_id for c in cp.connectors.all() if c.evse_id}) or [1]
    context = {
        "cp": cp,
        "v2": cp.is_ocpp2,
        "evses": evses,
        "form": ReserveForm(initial={"evse_id": evses[0]}),
        "reservations": Reservation.objects.filter(charge_point=cp).order_by("-created_at")[:50],
        "can_operate": request.user.role in CAN_OPERATE_CHARGERS,
    }
    return render(request, "portal/chargers/reservations.html", context)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_reserve(request, identity):
    cp = get_object_or_404(ChargePoint, identity=identity)
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


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_reservation_cancel(request, identity, reservation_id):
    cp = get_object_or_404(ChargePoint, identity=identity)
    reservation = get_object_or_404(Reservation, charge_point=cp, reservation_id=reservation_id)
    try:
        result = reservation_cancel_request(reservation=reservation, user=request.user)
    except (ReservationError, InvalidCommand) as exc:
        messages.error(request, str(exc))
        return redirect("portal:charger_reservations", identity=identity)
    ok, text = _outcome(result)
    (messages.success if ok else messages.error)(request, f"Cancelling #{reservation_id}: {text}")
    return redirect("portal:charger_reservations", identity=identity)


urlpatterns = [
    path("chargers/<str:identity>/reservations/", charger_reservations, name="charger_reservations"),
    path("chargers/<str:identity>/reservations/new/", charger_reserve, name="charger_reserve"),
    path(
        "chargers/<str:identity>/reservations/<int:reservation_id>/cancel/",
        charger_reservation_cancel,
        name="charger_reservation_cancel",
    ),
]
