"""Every Celery task of ours has a soft and a hard time limit, the soft one first: a new task
without them fails here."""

from django.conf import settings

from config.celery import app


def _our_tasks() -> dict:
    app.loader.import_default_modules()  # what a worker does at start: autodiscovers tasks.py
    labels = {name.removeprefix("apps.").split(".")[0] for name in settings.INSTALLED_APPS if name.startswith("apps.")}
    return {
        name: task
        for name, task in app.tasks.items()
        if type(task).__module__.startswith("apps.") or name.split(".")[0] in labels
    }


def test_every_task_has_a_soft_and_a_hard_time_limit():
    tasks = _our_tasks()
    assert len(tasks) >= 30 and "csms.send_command" in tasks and "core.heartbeat" in tasks
    missing = {name: (t.soft_time_limit, t.time_limit) for name, t in tasks.items() if not t.soft_time_limit}
    missing |= {name: (t.soft_time_limit, t.time_limit) for name, t in tasks.items() if not t.time_limit}
    assert not missing, f"tasks without soft_time_limit/time_limit: {missing}"
    inverted = {
        name: (t.soft_time_limit, t.time_limit) for name, t in tasks.items() if t.soft_time_limit >= t.time_limit
    }
    assert not inverted, f"soft_time_limit must come before time_limit: {inverted}"


def test_other_tasks_get_the_global_defaults():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
