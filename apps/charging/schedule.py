"""Beat entries of apps.charging (merged into the Celery app by config/celery.py)."""

COST_UPDATES_EVERY_S = 60.0
# Sessions silent for ChargingSettings.unreported_end_hours (a day or two): every 15 minutes
# frees a locked card soon enough; one query per organisation over its active sessions.
CLOSE_INACTIVE_EVERY_S = 900.0

BEAT_SCHEDULE = {
    # CostUpdated to OCPP 2.x stations for running transactions.
    "charging-cost-updates": {
        "task": "charging.cost_updates",
        "schedule": COST_UPDATES_EVERY_S,
        "options": {"expires": int(COST_UPDATES_EVERY_S)},
    },
    # Active transactions whose end the station never reported (apps.charging.services.
    # transactions_close_inactive).
    "charging-close-inactive-transactions": {
        "task": "charging.close_inactive_transactions",
        "schedule": CLOSE_INACTIVE_EVERY_S,
        "options": {"expires": int(CLOSE_INACTIVE_EVERY_S)},
    },
}
