"""Beat entries of apps.certificates (merged into the Celery app by config/celery.py)."""

REPORT_EXPIRING_EVERY_S = 86400.0

BEAT_SCHEDULE = {
    # A daily look at CA and charger certificates close to expiry.
    "certificates-report-expiring": {
        "task": "certificates.report_expiring",
        "schedule": REPORT_EXPIRING_EVERY_S,
        "options": {"expires": 3600},
    },
}
