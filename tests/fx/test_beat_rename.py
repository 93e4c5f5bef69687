"""The ECB task's rename (billing.fetch_ecb_rates -> fx.fetch_ecb_rates) reaches the rows
django-celery-beat's DatabaseScheduler keeps, so no row keeps sending an unregistered task."""

import importlib

import pytest
from django.apps import apps
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_tenants.utils import schema_context

from config.celery import app

pytestmark = pytest.mark.django_db
rename = importlib.import_module("apps.fx.migrations.0002_rename_ecb_beat_task")


@pytest.fixture
def crontab():
    with schema_context("public"):
        yield CrontabSchedule.objects.create(hour="15", minute="30", day_of_week="mon-fri")


def _rows():
    return dict(PeriodicTask.objects.values_list("name", "task"))


def test_the_old_row_is_renamed_and_keeps_its_state(crontab):
    with schema_context("public"):
        PeriodicTask.objects.create(
            name="billing-fetch-ecb-rates", task="billing.fetch_ecb_rates", crontab=crontab, enabled=False
        )
        PeriodicTask.objects.create(name="my ecb", task="billing.fetch_ecb_rates", crontab=crontab)
        rename.forwards(apps, None)
        assert _rows() == {"fx-fetch-ecb-rates": "fx.fetch_ecb_rates", "my ecb": "fx.fetch_ecb_rates"}
        assert PeriodicTask.objects.get(name="fx-fetch-ecb-rates").enabled is False
        rename.backwards(apps, None)
        assert _rows() == {"billing-fetch-ecb-rates": "billing.fetch_ecb_rates", "my ecb": "billing.fetch_ecb_rates"}


def test_the_old_row_goes_when_beat_already_made_the_new_one(crontab):
    with schema_context("public"):
        PeriodicTask.objects.create(name="billing-fetch-ecb-rates", task="billing.fetch_ecb_rates", crontab=crontab)
        PeriodicTask.objects.create(name="fx-fetch-ecb-rates", task="fx.fetch_ecb_rates", crontab=crontab)
        rename.forwards(apps, None)
        assert _rows() == {"fx-fetch-ecb-rates": "fx.fetch_ecb_rates"}


def test_the_new_task_is_registered_and_the_old_name_is_not():
    app.loader.import_default_modules()
    assert "fx.fetch_ecb_rates" in app.tasks and "billing.fetch_ecb_rates" not in app.tasks
