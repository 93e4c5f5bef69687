"""Beat entries of apps.payments (merged into the Celery app by config/celery.py)."""

SWEEP_FAILED_CAPTURES_EVERY_S = 1800.0

BEAT_SCHEDULE = {
    # Failed captures whose retry was lost with a worker are re-queued.
    "payments-sweep-failed-captures": {
        "task": "payments.sweep_failed_captures",
        "schedule": SWEEP_FAILED_CAPTURES_EVERY_S,
        "options": {"expires": int(SWEEP_FAILED_CAPTURES_EVERY_S)},
    },
}
