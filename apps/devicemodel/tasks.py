from celery import shared_task

from apps.devicemodel.provisioning import template_apply


@shared_task(name="devicemodel.template_run", soft_time_limit=300, time_limit=360)
def template_run(run_id):
    """Apply a queued vendor template run (runs in the schema it was queued from)."""

    return template_apply(run_id=run_id).status
