"""queue_after_commit: a task queued from an organisation's schema runs there, after commit;
with a countdown under eager Celery, a moment later in a thread of its own."""

import threading
import time

import celery
import pytest
from celery import shared_task
from django.db import connection
from django_tenants.utils import schema_context

from apps.core.tenancy import queue_after_commit
from config.celery import app as celery_app

RAN: list[dict] = []


@shared_task(name="tests.core.record_schema")
def record_schema(value, *, fail=False):
    if fail:
        raise RuntimeError("boom")
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        search_path = cursor.fetchone()[0]
    RAN.append(
        {
            "value": value,
            "schema": connection.schema_name,
            "search_path": search_path,
            "thread": threading.get_ident(),
        }
    )


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()
    yield
    RAN.clear()


def _wait_for(n: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while len(RAN) < n and time.monotonic() < deadline:
        time.sleep(0.02)


def test_runs_after_commit_in_the_queuing_schema(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with schema_context(tenant_a.schema_name):
            queue_after_commit(record_schema, 1)
        assert RAN == []
        # The caller's schema_context has ended by the time the transaction commits.
        assert connection.schema_name == "public"
    assert len(callbacks) == 1
    # Eager and no countdown: inline, in the caller's thread.
    assert [(r["value"], r["schema"], r["thread"]) for r in RAN] == [(1, tenant_a.schema_name, threading.get_ident())]
    assert RAN[0]["search_path"].startswith(tenant_a.schema_name)


def test_eager_countdown_runs_later_in_a_thread_in_the_schema(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with schema_context(tenant_a.schema_name):
            queue_after_commit(record_schema, 2, countdown=0.2)
    # Never inline: under eager Celery that would be the charger's own receive path.
    assert RAN == []
    _wait_for(1)
    assert [(r["value"], r["schema"]) for r in RAN] == [(2, tenant_a.schema_name)]
    assert RAN[0]["search_path"].startswith(tenant_a.schema_name)
    assert RAN[0]["thread"] != threading.get_ident()


def test_eager_countdown_failure_is_logged_not_raised(tenant_a, django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True):
        with schema_context(tenant_a.schema_name):
            queue_after_commit(record_schema, 3, countdown=0.01, fail=True)
    deadline = time.monotonic() + 5
    while not caplog.records and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r.getMessage() for r in caplog.records] == [
        f"tests.core.record_schema failed (eager, in a thread) in {tenant_a.schema_name}"
    ]
    assert RAN == []


def test_countdown_without_eager_queues_with_countdown_and_schema(
    tenant_a, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []

    def send_task(self, name, args=None, kwargs=None, **options):
        sent.append(
            {
                "name": name,
                "args": list(args),
                "kwargs": kwargs,
                "countdown": options.get("countdown"),
                "schema": options["headers"]["_schema_name"],
            }
        )

    # CeleryApp.send_task adds the schema header, then hands over to Celery.send_task (the broker).
    monkeypatch.setattr(celery.Celery, "send_task", send_task)
    celery_app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with schema_context(tenant_a.schema_name):
                queue_after_commit(record_schema, 4, countdown=2.0, fail=False)
                queue_after_commit(record_schema, 5)
            assert sent == []
    finally:
        celery_app.conf.task_always_eager = True
    assert sent == [
        {
            "name": "tests.core.record_schema",
            "args": [4],
            "kwargs": {"fail": False},
            "countdown": 2.0,
            "schema": tenant_a.schema_name,
        },
        {
            "name": "tests.core.record_schema",
            "args": [5],
            "kwargs": {},
            "countdown": None,
            "schema": tenant_a.schema_name,
        },
    ]
    assert RAN == []
