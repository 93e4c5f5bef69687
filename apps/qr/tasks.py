"""QR tasks. They run in the schema they were queued from (tenant-schemas-celery)."""

from celery import shared_task

from apps.core.fanout import fan_out, jitter_for
from apps.qr.guest import guest_session_refresh, guest_session_remote_start
from apps.qr.models import GuestSession
from apps.qr.schedule import GUEST_SWEEP_EVERY_S


@shared_task(name="qr.guest_start", soft_time_limit=60, time_limit=90)
def guest_start(guest_id: int) -> None:
    """RemoteStart for a guest whose hold is authorised: in a task, since the charger may take up
    to START_TIMEOUT seconds to answer and webhooks must be answered at once."""

    guest = GuestSession.objects.filter(pk=guest_id).first()
    if guest is not None:
        guest_session_remote_start(guest=guest)


@shared_task(name="qr.guest_sweep", soft_time_limit=30, time_limit=60, ignore_result=True)
def guest_sweep() -> int:
    """Beat, every minute: guest_sweep_in_schema in every organisation."""

    every = GUEST_SWEEP_EVERY_S
    return fan_out(guest_sweep_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="qr.guest_sweep_in_schema", soft_time_limit=120, time_limit=150, ignore_result=True)
def guest_sweep_in_schema() -> int:
    """Move guests' sessions along when nobody has the page open (link the session, release
    unused holds, send receipts, re-queue starts lost with a worker)."""
    import datetime as dt

    from django.utils import timezone

    S = GuestSession.Status
    stale_start = timezone.now() - dt.timedelta(minutes=2)
    done = 0
    for guest in GuestSession.objects.filter(
        status__in=[S.STARTED, S.CHARGING, S.COMPLETED, S.START_FAILED, S.AWAITING_PAYMENT],
        receipt_sent_at__isnull=True,
        created_at__gte=timezone.now() - dt.timedelta(days=3),
    ).select_related("payment", "transaction", "code__charge_point"):
        guest_session_refresh(guest=guest)
        done += 1
    for pk in GuestSession.objects.filter(status=S.AUTHORIZED, updated_at__lt=stale_start).values_list("pk", flat=True):
        guest_start.delay(pk)
    return done
