"""Periodic OCPP housekeeping: each beat task queues one task per organisation schema."""

import logging

from celery import shared_task

from apps.chargers.services import charge_points_mark_stale_offline
from apps.core.fanout import fan_out, jitter_for
from apps.csms.schedule import PURGE_MESSAGE_LOG_EVERY_S, STALE_OFFLINE_EVERY_S
from apps.csms.services import csms_settings_get, message_log_purge

logger = logging.getLogger(__name__)


@shared_task(name="csms.mark_stale_offline", soft_time_limit=30, time_limit=60, ignore_result=True)
def mark_stale_offline() -> int:
    """Beat: mark_stale_offline_in_schema in every organisation."""
    every = STALE_OFFLINE_EVERY_S
    return fan_out(mark_stale_offline_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="csms.mark_stale_offline_in_schema", soft_time_limit=30, time_limit=45, ignore_result=True)
def mark_stale_offline_in_schema() -> int:
    """Offline every charger silent for too long -- the safety net for a server process
    that died with its sockets and never ran their disconnect handlers."""

    return charge_points_mark_stale_offline(default_interval=csms_settings_get().heartbeat_interval)


@shared_task(name="csms.purge_message_log", soft_time_limit=30, time_limit=60, ignore_result=True)
def purge_message_log() -> int:
    """Beat: purge_message_log_in_schema in every organisation."""
    every = PURGE_MESSAGE_LOG_EVERY_S
    return fan_out(purge_message_log_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="csms.purge_message_log_in_schema", soft_time_limit=900, time_limit=960, ignore_result=True)
def purge_message_log_in_schema() -> int:
    """Delete message-log rows older than the organisation's retention period."""

    return message_log_purge()


# The send task lives with the command port; imported here so the worker registers it with the
# other csms tasks whatever imported first.
from apps.csms.commands import send_command  # noqa: E402,F401
