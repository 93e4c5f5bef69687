"""Beat entries of apps.billing (merged into the Celery app by config/celery.py)."""

CREATE_MISSING_CDRS_EVERY_S = 900.0

BEAT_SCHEDULE = {
    # Sessions of the last 24 h whose create_cdr publish was lost get their CDR.
    "billing-create-missing-cdrs": {
        "task": "billing.create_missing_cdrs",
        "schedule": CREATE_MISSING_CDRS_EVERY_S,
        "options": {"expires": int(CREATE_MISSING_CDRS_EVERY_S)},
    },
}
