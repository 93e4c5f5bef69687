import time

from celery import shared_task
from django.core.cache import cache

from apps.core.selectors import WORKER_KEY


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by a worker every HEARTBEAT_INTERVAL; /healthz reads the timestamp."""
    cache.set(WORKER_KEY, time.time(), timeout=None)
