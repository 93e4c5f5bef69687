import time

from celery import shared_task
from django.core.cache import cache

from apps.core.selectors import WORKER_KEY


# Well under the interval: a heartbeat that cannot write the cache in seconds proves nothing.
@shared_task(name="core.heartbeat", soft_time_limit=5, time_limit=10, ignore_result=True)
def heartbeat() -> None:
    """Run by a worker every HEARTBEAT_INTERVAL; /healthz reads the timestamp."""
    cache.set(WORKER_KEY, time.time(), timeout=None)
