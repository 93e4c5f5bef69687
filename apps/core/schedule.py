"""Beat entries of apps.core (merged into the Celery app by config/celery.py)."""

from django.conf import settings

# Imported by config/celery.py once Celery reads its configuration, i.e. after settings have
# loaded, so the interval comes from settings (HEARTBEAT_INTERVAL, read from the environment
# in config/settings/base.py) like everything else.
HEARTBEAT_EVERY_S = float(settings.HEARTBEAT_INTERVAL)

BEAT_SCHEDULE = {
    "core-heartbeat": {
        "task": "core.heartbeat",
        "schedule": HEARTBEAT_EVERY_S,
        # A heartbeat that waited longer than one interval proves nothing.
        "options": {"expires": HEARTBEAT_EVERY_S},
    },
}
