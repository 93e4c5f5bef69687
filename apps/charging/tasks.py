from celery import shared_task


@shared_task(name="charging.local_list_push_pending")
def local_list_push_pending(charge_point_ids=None):
    """Push pending local lists to online chargers (runs in the schema it was queued from)."""
    from apps.charging import locallists

    return locallists.local_list_push_pending(charge_point_ids=charge_point_ids)
