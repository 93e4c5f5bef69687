"""Beat entries of apps.csms (merged into the Celery app by config/celery.py)."""

STALE_OFFLINE_EVERY_S = 60.0
PURGE_MESSAGE_LOG_EVERY_S = 3600.0

BEAT_SCHEDULE = {
    # Chargers silent for 2 heartbeat intervals + 60 s go offline.
    "csms-mark-stale-offline": {
        "task": "csms.mark_stale_offline",
        "schedule": STALE_OFFLINE_EVERY_S,
        "options": {"expires": int(STALE_OFFLINE_EVERY_S)},
    },
    "csms-purge-message-log": {
        "task": "csms.purge_message_log",
        "schedule": PURGE_MESSAGE_LOG_EVERY_S,
        "options": {"expires": int(PURGE_MESSAGE_LOG_EVERY_S)},
    },
}
