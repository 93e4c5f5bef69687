"""Display messages (block O): SetDisplayMessage, GetDisplayMessages /
NotifyDisplayMessages, ClearDisplayMessage."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.diagnostics.models import DisplayMessage, StationRequest
from apps.diagnostics.services.common import INT32, part_store, station_request_answered, wire_time


def display_message_next_id(*, charge_point) -> int:
    """An id the station does not have from us yet (a SetDisplayMessage with a known id
    replaces that message, which is how an edit works)."""
    top = DisplayMessage.objects.filter(charge_point=charge_point).aggregate(m=Max("message_id"))["m"]
    return 1 if top is None or top >= INT32 else top + 1


def _fields(info: dict) -> dict:
    content = info["message"]
    return {
        "priority": info["priority"],
        "state": info.get("state", ""),
        "start_at": wire_time(info.get("startDateTime")),
        "end_at": wire_time(info.get("endDateTime")),
        "transaction_id": info.get("transactionId", ""),
        "format": content["format"],
        "language": content.get("language", ""),
        "content": content["content"],
        "message_info": info,
    }


def display_message_set_answered(*, charge_point_id: int, message: dict, status: str, user=None):
    """SetDisplayMessage answered: an accepted message is on the station now."""
    if status != "Accepted":
        return None
    now = timezone.now()
    obj, _ = DisplayMessage.objects.update_or_create(
        charge_point_id=charge_point_id,
        message_id=message["id"],
        defaults={**_fields(message), "set_by": user, "set_at": now, "updated_at": now},
    )
    return obj


def display_message_clear_answered(*, charge_point_id: int, message_id: int, status: str) -> None:
    # Unknown: the station does not have it (any more) -- nor should our list.
    if status in ("Accepted", "Unknown"):
        DisplayMessage.objects.filter(charge_point_id=charge_point_id, message_id=message_id).delete()


@transaction.atomic
def display_messages_part(*, charge_point_id: int, request_id: int, tbc: bool, messages: list[dict]) -> StationRequest:
    """One NotifyDisplayMessages (no seqNo in this message: parts are kept in arrival
    order). Messages are kept as they come; once the last part of an unfiltered request
    is in, messages it did not list are gone from the station."""
    req, completed = part_store(
        charge_point_id=charge_point_id,
        kind=StationRequest.Kind.DISPLAY_MESSAGES,
        request_id=request_id,
        seq_no=None,
        tbc=tbc,
        payload={"messageInfo": messages},
    )
    now = timezone.now()
    for info in messages:
        DisplayMessage.objects.update_or_create(
            charge_point_id=charge_point_id,
            message_id=info["id"],
            defaults={**_fields(info), "reported_at": now, "updated_at": now},
        )
    if completed and not req.filtered:
        _sweep(req)
    return req


def _sweep(req: StationRequest) -> None:
    seen = {m["id"] for part in req.parts.all() for m in part.payload.get("messageInfo", [])}
    DisplayMessage.objects.filter(charge_point_id=req.charge_point_id, updated_at__lt=req.created_at).exclude(
        message_id__in=seen
    ).delete()


@transaction.atomic
def display_messages_answered(*, charge_point_id: int, request_id: int, status: str, params: dict) -> None:
    """GetDisplayMessages' answer; Unknown to an unfiltered request: the display is empty."""
    req = station_request_answered(
        charge_point_id=charge_point_id,
        kind=StationRequest.Kind.DISPLAY_MESSAGES,
        request_id=request_id,
        answer=status,
        params=params,
    )
    if status == "Unknown" and not req.filtered:
        StationRequest.objects.filter(pk=req.pk).update(complete=True, completed_at=timezone.now())
        _sweep(req)
