"""Reads about the platform's own health."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

WORKER_KEY = "health:worker"
BEAT_KEY = "health:beat"


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down", reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def _check_redis() -> dict:
    started = time.monotonic()
    try:
        client = cache._cache.get_client(write=True)
        client.ping()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def _check_fresh(key: str) -> dict:
    """A process proves it is alive by writing a timestamp every HEARTBEAT_INTERVAL seconds."""
    try:
        last = cache.get(key)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if last is None:
        return {"ok": False, "error": "never seen"}
    age = time.time() - float(last)
    # Two missed beats plus slack before we call it stale.
    return {"ok": age <= settings.HEARTBEAT_INTERVAL * 2 + 15, "age_seconds": round(age, 1)}


def health_report() -> dict:
    checks = {
        "database": _check_database(),
        "redis": _check_redis(),
        "celery_worker": _check_fresh(WORKER_KEY),
        "celery_beat": _check_fresh(BEAT_KEY),
    }
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "error", "checks": checks}
