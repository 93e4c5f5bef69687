"""Reads about what the central system exchanged with a charger: its message log and the
commands sent to it (the charger page and the hardware log)."""

from django.db.models import Q

from apps.chargers.models import ChargePoint
from apps.csms.models import Command, MessageLog


def message_search(*, charge_point: ChargePoint, q: str = "", action: str = ""):
    qs = MessageLog.objects.filter(charge_point_id=charge_point.pk)
    if action:
        qs = qs.filter(action__iexact=action)
    if q:
        qs = qs.filter(
            Q(unique_id__icontains=q) | Q(raw__icontains=q) | Q(error_code__icontains=q) | Q(action__icontains=q)
        )
    return qs.order_by("-timestamp", "-id")


def recent_commands(*, charge_point: ChargePoint, limit: int = 10) -> list[Command]:
    return list(Command.objects.filter(charge_point=charge_point).select_related("user")[:limit])
