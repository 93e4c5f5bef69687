"""Beat entries of apps.fx (merged into the Celery app by config/celery.py)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # ECB reference rates are published around 16:00 CET on TARGET working days. Beat runs in
    # UTC; 15:30 UTC is 16:30 CET in winter and 17:30 CEST in summer, after publication either way.
    "fx-fetch-ecb-rates": {
        "task": "fx.fetch_ecb_rates",
        "schedule": crontab(hour=15, minute=30, day_of_week="mon-fri"),
        "options": {"expires": 6 * 3600},
    },
}
