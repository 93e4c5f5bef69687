"""Reserving a connector (1.6) or an EVSE (2.x) for a card, and cancelling it, whatever
OCPP version the charger speaks (block H of 2.0.1, Reservation profile of 1.6).

The reservation id is ours: the next free number on this charger, taken by inserting the
row before the command goes out (the unique constraint per charger settles two operators
reserving at once). The charger's answer then fills the row in -- by the session's
answer hook when the charger answers, or here when it is offline or silent, so a
reservation that never reached the charger is never shown as active.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.chargers.models import ChargePoint
from apps.charging.models import IdToken, Reservation
from apps.core.timefmt import iso_utc
from apps.csms.commands import command_send

MAX_MINUTES = 24 * 60
_INT32 = 2**31 - 1


class ReservationError(Exception):
    pass


def _claim_id(*, charge_point: ChargePoint, evse_id: int, id_token: IdToken, expires_at) -> Reservation:
    for _ in range(5):
        last = Reservation.objects.filter(charge_point=charge_point).aggregate(m=Max("reservation_id"))["m"] or 0
        try:
            with transaction.atomic():
                return Reservation.objects.create(
                    charge_point=charge_point,
                    reservation_id=(last + 1) % _INT32 or 1,
                    connector_id=0 if charge_point.is_ocpp2 else evse_id,
                    evse_id=evse_id,
                    id_tag=id_token.id_token,
                    id_token_type=id_token.type,
                    parent_id_tag=id_token.group_id,
                    expires_at=expires_at,
                    # Not active until the charger says Accepted.
                    status=Reservation.Status.REFUSED,
                    charger_status="Sending",
                )
        except IntegrityError:
            continue  # someone took that number a moment ago
    raise ReservationError("Could not allocate a reservation id; try again.")


def reservation_make(
    *, charge_point: ChargePoint, evse_id: int, id_token: IdToken, minutes: int, user=None, timeout: float = 20
):
    """Send ReserveNow; returns (Reservation, CommandResult). evse_id is the connector id
    on a 1.6 charger (each connector is its own EVSE there), 0 = any (1.6 connector 0)."""

    if not 1 <= minutes <= MAX_MINUTES:
        raise ReservationError(f"A reservation lasts 1 to {MAX_MINUTES} minutes.")
    if evse_id < 0 or (charge_point.is_ocpp2 and evse_id == 0):
        raise ReservationError("Choose an EVSE of this charger.")
    expires_at = (timezone.now() + timedelta(minutes=minutes)).replace(microsecond=0)
    reservation = _claim_id(charge_point=charge_point, evse_id=evse_id, id_token=id_token, expires_at=expires_at)
    stamp = iso_utc(expires_at)
    if charge_point.is_ocpp2:
        payload = {
            "id": reservation.reservation_id,
            "expiryDateTime": stamp,
            "idToken": {"idToken": id_token.id_token, "type": id_token.type},
            "evseId": evse_id,
        }
        if id_token.group_id:
            payload["groupIdToken"] = {"idToken": id_token.group_id[:36], "type": "Central"}
    else:
        payload = {
            "connectorId": evse_id,
            "expiryDate": stamp,
            "idTag": id_token.id_token,
            "reservationId": reservation.reservation_id,
        }
        if id_token.group_id:
            payload["parentIdTag"] = id_token.group_id[:20]
    try:
        result = command_send(
            charge_point=charge_point, action="ReserveNow", payload=payload, user=user, timeout=timeout, source="portal"
        )
    except Exception:
        reservation.delete()  # never sent: the number is free again
        raise
    if result.status != "ok":
        # Offline, no answer or CALLERROR: the session's hook never ran; say what happened.
        answer = result.status if result.status != "error" else (result.error or {}).get("code", "error")
        Reservation.objects.filter(pk=reservation.pk, charger_status="Sending").update(charger_status=answer[:16])
    reservation.refresh_from_db()
    return reservation, result


def reservation_cancel_request(*, reservation: Reservation, user=None, timeout: float = 20):
    """Send CancelReservation; the answer hook marks it Cancelled when Accepted."""

    if reservation.status != Reservation.Status.ACTIVE:
        raise ReservationError("Only an active reservation can be cancelled.")
    return command_send(
        charge_point=reservation.charge_point,
        action="CancelReservation",
        payload={"reservationId": reservation.reservation_id},
        user=user,
        timeout=timeout,
        source="portal",
    )
