"""Periodic OCPP housekeeping, fanned out over every organisation schema."""

import logging

from celery import shared_task

from apps.core.tenancy import for_each_tenant

logger = logging.getLogger(__name__)


@shared_task(name="csms.mark_stale_offline", ignore_result=True)
def mark_stale_offline() -> int:
    """Offline every charger silent for too long -- the safety net for a server process
    that died with its sockets and never ran their disconnect handlers."""
    from apps.chargers.services import charge_points_mark_stale_offline
    from apps.csms.services import csms_settings_get

    return for_each_tenant(
        lambda: charge_points_mark_stale_offline(default_interval=csms_settings_get().heartbeat_interval),
        name="mark_stale_offline",
    )


@shared_task(name="csms.purge_message_log", ignore_result=True)
def purge_message_log() -> int:
    """Delete message-log rows older than each organisation's retention period."""
    from apps.csms.services import message_log_purge

    return for_each_tenant(message_log_purge, name="purge_message_log")


# The send task lives with the command port; imported here so the worker registers it with the
# other csms tasks whatever imported first.
from apps.csms.commands import send_command  # noqa: E402,F401
