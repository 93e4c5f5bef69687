"""Stopping wallet-paid sessions that have used up what they may cost.

A beat job rather than a check on every MeterValues frame: the OCPP hot path stays free of
pricing work, and a minute's lag costs at most a minute of charging."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.billing.selectors import running_cost
from apps.charging.models import Transaction
from apps.charging.remote import remote_stop, remote_stop_requested_since
from apps.core.fanout import fan_out, jitter_for
from apps.csms.commands import InvalidCommand
from apps.wallets.schedule import STOP_EXHAUSTED_EVERY_S
from apps.wallets.selectors import wallet_settings, wallet_should_stop

logger = logging.getLogger(__name__)
RESTOP_AFTER = timedelta(minutes=5)  # a stop the charger ignored is asked again after this


def stop_exhausted_sessions_here() -> int:
    """In the current schema: RemoteStop every active session whose wallet cannot pay more."""

    if not wallet_settings().stop_when_exhausted:
        return 0
    stopped = 0
    active = Transaction.objects.filter(status=Transaction.Status.ACTIVE, id_token__owner__isnull=False)
    for tx in active.select_related("charge_point", "id_token__owner"):
        cost = running_cost(transaction=tx)
        if cost is None or not tx.transaction_id:
            continue
        owner = tx.id_token.owner
        if not wallet_should_stop(
            user=owner, running_cost=cost["total_incl_vat"], location_id=tx.charge_point.location_id
        ):
            continue
        if remote_stop_requested_since(transaction=tx, since=timezone.now() - RESTOP_AFTER):
            continue
        try:
            remote_stop(transaction=tx, timeout=15, source="wallet")
        except (InvalidCommand, ValueError):
            logger.exception("could not stop exhausted session %s", tx.pk)
            continue
        stopped += 1
    return stopped


@shared_task(name="wallets.stop_exhausted_sessions", soft_time_limit=30, time_limit=60, ignore_result=True)
def stop_exhausted_sessions() -> int:
    """Beat: stop_exhausted_sessions_in_schema in every organisation."""
    every = STOP_EXHAUSTED_EVERY_S
    return fan_out(stop_exhausted_sessions_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="wallets.stop_exhausted_sessions_in_schema", soft_time_limit=120, time_limit=150, ignore_result=True)
def stop_exhausted_sessions_in_schema() -> int:
    return stop_exhausted_sessions_here()
