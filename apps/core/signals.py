import time

from celery.signals import before_task_publish
from django.core.cache import cache

from apps.core.selectors import BEAT_KEY


@before_task_publish.connect
def _beat_published_heartbeat(sender=None, **kwargs):
    # Fires in the publishing process; only beat publishes core.heartbeat, so this
    # timestamp is beat's proof of life, separate from the worker's.
    if sender == "core.heartbeat":
        cache.set(BEAT_KEY, time.time(), timeout=None)
