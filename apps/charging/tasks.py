from celery import shared_task


@shared_task(name="charging.local_list_push_pending")
def local_list_push_pending(charge_point_ids=None):
    """Push pending local lists to online chargers (runs in the schema it was queued from)."""
    from apps.charging import locallists

    return locallists.local_list_push_pending(charge_point_ids=charge_point_ids)


@shared_task(name="charging.cost_updates", ignore_result=True)
def cost_updates() -> int:
    """Beat: CostUpdated for running OCPP 2.x transactions, in every organisation."""
    import logging

    from django.conf import settings
    from django_tenants.utils import get_tenant_model, schema_context

    from apps.charging.transaction_events import cost_updates_send

    total = 0
    schemas = get_tenant_model().objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    for schema in schemas.values_list("schema_name", flat=True):
        try:
            with schema_context(schema):
                total += cost_updates_send()
        except Exception:  # one organisation's failure must not stop the others
            logging.getLogger(__name__).exception("cost_updates failed for %s", schema)
    return total
