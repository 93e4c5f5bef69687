"""The ECB task moved from the `billing.` namespace to `fx.` (it lives in apps.fx).

django-celery-beat's DatabaseScheduler keeps one PeriodicTask row per beat entry name and
never deletes rows whose entry left the configuration: the old `billing-fetch-ecb-rates` row
would go on sending `billing.fetch_ecb_rates`, which no worker registers any more. The row is
renamed rather than deleted so that its last run (no second fetch on the day of the deploy)
and an operator's enabled flag survive; beat then updates it from apps/fx/schedule.py.
"""

from django.db import migrations
from django.utils import timezone

OLD_NAME, NEW_NAME = "billing-fetch-ecb-rates", "fx-fetch-ecb-rates"
OLD_TASK, NEW_TASK = "billing.fetch_ecb_rates", "fx.fetch_ecb_rates"


def _move(apps, *, old_name, new_name, old_task, new_task):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    # Rows an operator made in the admin for the same task keep their name, not the task.
    changed = PeriodicTask.objects.filter(task=old_task).update(task=new_task)
    old = PeriodicTask.objects.filter(name=old_name).first()
    if old is not None:
        changed += 1
        if PeriodicTask.objects.filter(name=new_name).exists():
            old.delete()  # beat already created the new entry (started before this migration)
        else:
            old.name = new_name
            old.save(update_fields=["name"])
    if changed:
        # A running beat re-reads its rows only when this timestamp moves (update() sends no signal).
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def forwards(apps, schema_editor):
    _move(apps, old_name=OLD_NAME, new_name=NEW_NAME, old_task=OLD_TASK, new_task=NEW_TASK)


def backwards(apps, schema_editor):
    _move(apps, old_name=NEW_NAME, new_name=OLD_NAME, old_task=NEW_TASK, new_task=OLD_TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("fx", "0001_initial"),
        ("django_celery_beat", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
