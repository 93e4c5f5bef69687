"""Beat entries of apps.charging (merged into the Celery app by config/celery.py)."""

COST_UPDATES_EVERY_S = 60.0

BEAT_SCHEDULE = {
    # CostUpdated to OCPP 2.x stations for running transactions.
    "charging-cost-updates": {
        "task": "charging.cost_updates",
        "schedule": COST_UPDATES_EVERY_S,
        "options": {"expires": int(COST_UPDATES_EVERY_S)},
    },
}
