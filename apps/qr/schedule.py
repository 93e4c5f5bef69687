"""Beat entries of apps.qr (merged into the Celery app by config/celery.py)."""

GUEST_SWEEP_EVERY_S = 60.0

BEAT_SCHEDULE = {
    # Holds of guests whose car never plugged in are released.
    "qr-guest-sweep": {
        "task": "qr.guest_sweep",
        "schedule": GUEST_SWEEP_EVERY_S,
        "options": {"expires": int(GUEST_SWEEP_EVERY_S)},
    },
}
