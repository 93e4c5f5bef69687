"""Celery application. Tasks run in the schema they were queued from (tenant-schemas-celery)."""

import os

from tenant_schemas_celery.app import CeleryApp as TenantAwareCeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = TenantAwareCeleryApp("evzone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Read from the environment, not settings: this module is imported while settings load.
_HEARTBEAT = float(os.environ.get("HEARTBEAT_INTERVAL", 30))
app.conf.beat_schedule = {
    "core-heartbeat": {
        "task": "core.heartbeat",
        "schedule": _HEARTBEAT,
        # A heartbeat that waited longer than one interval proves nothing.
        "options": {"expires": _HEARTBEAT},
    },
    # OCPP: chargers silent for 2 heartbeat intervals + 60 s go offline (apps.csms.tasks).
    "csms-mark-stale-offline": {"task": "csms.mark_stale_offline", "schedule": 60.0, "options": {"expires": 60}},
    "csms-purge-message-log": {"task": "csms.purge_message_log", "schedule": 3600.0, "options": {"expires": 3600}},
}

# ECB reference rates (apps.fx): published around 16:00 CET on TARGET working days. Beat runs in
# UTC; 15:30 UTC is 16:30 CET in winter and 17:30 CEST in summer, after publication either way.
from celery.schedules import crontab  # noqa: E402

app.conf.beat_schedule["billing-fetch-ecb-rates"] = {
    "task": "billing.fetch_ecb_rates",
    "schedule": crontab(hour=15, minute=30, day_of_week="mon-fri"),
    "options": {"expires": 6 * 3600},
}

# Payments (apps.payments): failed captures whose retry was lost with a worker are re-queued.
app.conf.beat_schedule["payments-sweep-failed-captures"] = {
    "task": "payments.sweep_failed_captures",
    "schedule": 1800.0,
    "options": {"expires": 1800},
}

# Billing (apps.billing): sessions of the last 24 h whose create_cdr publish was lost get their CDR.
app.conf.beat_schedule["billing-create-missing-cdrs"] = {
    "task": "billing.create_missing_cdrs",
    "schedule": 900.0,
    "options": {"expires": 900},
}

# Wallets (apps.wallets): sessions whose wallet cannot pay more are stopped remotely.
app.conf.beat_schedule["wallets-stop-exhausted-sessions"] = {
    "task": "wallets.stop_exhausted_sessions",
    "schedule": 60.0,
    "options": {"expires": 60},
}

# Certificates (apps.certificates): a daily look at CA and charger certificates close to expiry.
app.conf.beat_schedule["certificates-report-expiring"] = {
    "task": "certificates.report_expiring",
    "schedule": 86400.0,
    "options": {"expires": 3600},
}

# QR guests (apps.qr): holds of guests whose car never plugged in are released.
app.conf.beat_schedule["qr-guest-sweep"] = {
    "task": "qr.guest_sweep",
    "schedule": 60.0,
    "options": {"expires": 60},
}

# Charging (apps.charging): CostUpdated to OCPP 2.x stations for running transactions.
app.conf.beat_schedule["charging-cost-updates"] = {
    "task": "charging.cost_updates",
    "schedule": 60.0,
    "options": {"expires": 60},
}
