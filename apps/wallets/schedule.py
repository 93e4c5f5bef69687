"""Beat entries of apps.wallets (merged into the Celery app by config/celery.py)."""

STOP_EXHAUSTED_EVERY_S = 60.0

BEAT_SCHEDULE = {
    # Sessions whose wallet cannot pay more are stopped remotely.
    "wallets-stop-exhausted-sessions": {
        "task": "wallets.stop_exhausted_sessions",
        "schedule": STOP_EXHAUSTED_EVERY_S,
        "options": {"expires": int(STOP_EXHAUSTED_EVERY_S)},
    },
}
