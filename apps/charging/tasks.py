from celery import shared_task


@shared_task(name="charging.local_list_push_pending")
def local_list_push_pending(charge_point_ids=None, source="task"):
    """Push pending local lists to online chargers (runs in the schema it was queued from);
    source "boot" checks every listed charger, pending or not."""
    from apps.charging import locallists

    return locallists.local_list_push_pending(charge_point_ids=charge_point_ids, source=source)


@shared_task(name="charging.cost_updates", ignore_result=True)
def cost_updates() -> int:
    """Beat: CostUpdated for running OCPP 2.x transactions, in every organisation."""
    from apps.charging.transaction_events import cost_updates_send
    from apps.core.tenancy import for_each_tenant

    return for_each_tenant(cost_updates_send, name="cost_updates")
