import time

import pytest
from django.core.cache import cache
from django.test import Client

from apps.core.selectors import BEAT_KEY, WORKER_KEY
from config.celery import app as celery_app


@pytest.fixture
def clean_heartbeats():
    cache.delete_many([WORKER_KEY, BEAT_KEY])
    yield
    cache.delete_many([WORKER_KEY, BEAT_KEY])


@pytest.mark.django_db
def test_health_reports_503_until_worker_and_beat_are_seen(clean_heartbeats):
    response = Client(HTTP_HOST="10.1.2.3").get("/healthz")  # any host: load balancers probe by IP
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["celery_worker"] == {"ok": False, "error": "never seen"}


@pytest.mark.django_db
def test_health_is_ok_once_beat_publishes_and_a_worker_runs_the_heartbeat(clean_heartbeats):
    # Eager mode runs the task in-process, exactly what a worker does; publishing
    # goes through Celery's before_task_publish hook as beat's does.
    from celery.signals import before_task_publish

    before_task_publish.send(sender="core.heartbeat", body=None, exchange="", routing_key="celery", headers={})
    celery_app.send_task  # noqa: B018  (the app is configured)
    from apps.core.tasks import heartbeat

    heartbeat.delay()
    response = Client().get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["celery_beat"]["ok"] is True


@pytest.mark.django_db
def test_stale_worker_heartbeat_is_reported(clean_heartbeats, settings):
    cache.set(BEAT_KEY, time.time(), timeout=None)
    cache.set(WORKER_KEY, time.time() - settings.HEARTBEAT_INTERVAL * 5, timeout=None)
    body = Client().get("/healthz").json()
    assert body["checks"]["celery_beat"]["ok"] is True
    assert body["checks"]["celery_worker"]["ok"] is False
    assert body["checks"]["celery_worker"]["age_seconds"] > settings.HEARTBEAT_INTERVAL * 4
