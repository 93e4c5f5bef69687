from celery import shared_task

from apps.charging import locallists
from apps.charging.schedule import CLOSE_INACTIVE_EVERY_S, COST_UPDATES_EVERY_S
from apps.charging.services import transactions_close_inactive
from apps.charging.transaction_events import cost_updates_send
from apps.core.fanout import fan_out, jitter_for


# Half an hour: at boot it asks and pushes every listed online charger in turn, each with
# its own command timeouts; the next run (or boot) resumes what a cut-off run left.
@shared_task(name="charging.local_list_push_pending", soft_time_limit=1800, time_limit=1860)
def local_list_push_pending(charge_point_ids=None, source="task"):
    """Push pending local lists to online chargers (runs in the schema it was queued from);
    source "boot" checks every listed charger, pending or not."""

    return locallists.local_list_push_pending(charge_point_ids=charge_point_ids, source=source)


@shared_task(name="charging.cost_updates", soft_time_limit=30, time_limit=60, ignore_result=True)
def cost_updates() -> int:
    """Beat: cost_updates_in_schema in every organisation."""

    every = COST_UPDATES_EVERY_S
    return fan_out(cost_updates_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="charging.cost_updates_in_schema", soft_time_limit=45, time_limit=60, ignore_result=True)
def cost_updates_in_schema() -> int:
    """CostUpdated for the organisation's running OCPP 2.x transactions."""

    return cost_updates_send()


@shared_task(name="charging.close_inactive_transactions", soft_time_limit=30, time_limit=60, ignore_result=True)
def close_inactive_transactions() -> int:
    """Beat: close_inactive_transactions_in_schema in every organisation."""

    every = CLOSE_INACTIVE_EVERY_S
    return fan_out(close_inactive_transactions_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(
    name="charging.close_inactive_transactions_in_schema", soft_time_limit=120, time_limit=150, ignore_result=True
)
def close_inactive_transactions_in_schema() -> int:
    """Close the organisation's active transactions that have been silent too long (their
    StopTransaction / Ended was lost): priced from the last reading, CDR by billing."""

    return transactions_close_inactive()
