"""Celery application. Tasks run in the schema they were queued from (tenant-schemas-celery).

Each app declares its beat entries in `apps/<app>/schedule.py` (a module-level
`BEAT_SCHEDULE` dict); they are merged here, so adding a periodic job never touches this file.
"""

import importlib
import os
from collections.abc import Iterable

from tenant_schemas_celery.app import CeleryApp as TenantAwareCeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = TenantAwareCeleryApp("evzone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def app_beat_schedules(app_names: Iterable[str]) -> dict[str, dict]:
    """The `BEAT_SCHEDULE` entries of every app among `app_names` that has a schedule module.
    Two apps declaring one entry name would silently replace each other: refused instead."""
    from django.core.exceptions import ImproperlyConfigured

    merged: dict[str, dict] = {}
    owners: dict[str, str] = {}
    for name in app_names:
        try:
            module = importlib.import_module(f"{name}.schedule")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.schedule":
                raise  # the schedule module exists but imports something missing
            continue
        for entry, spec in module.BEAT_SCHEDULE.items():
            if entry in merged:
                raise ImproperlyConfigured(f"Beat entry {entry!r} is declared by {owners[entry]} and {name}.")
            merged[entry] = spec
            owners[entry] = name
    return merged


@app.on_after_configure.connect
def _install_beat_schedule(sender, source, **kwargs):
    # This module is imported while settings load (config/__init__.py), too early to read
    # INSTALLED_APPS or import the apps' schedules; Celery reads its configuration (and sends
    # this signal) only once settings are ready, and before beat reads the schedule.
    from django.conf import settings

    ours = [name for name in settings.INSTALLED_APPS if name.startswith("apps.")]
    source["beat_schedule"] = app_beat_schedules(ours)
