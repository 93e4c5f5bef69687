"""Writes for diagnostics, monitoring, customer information and display messages.

Inputs that come from a station (notifications, answers to our commands) are the wire's
camelCase dicts, already validated against the version's schema by the session.
"""

from apps.diagnostics.services.common import (
    UploadRefused,
    diagnostics_settings_get,
    diagnostics_settings_update,
    station_request_answered,
    station_request_create,
)
from apps.diagnostics.services.customer import customer_information_part
from apps.diagnostics.services.display import (
    display_message_clear_answered,
    display_message_next_id,
    display_message_set_answered,
    display_messages_answered,
    display_messages_part,
)
from apps.diagnostics.services.logs import (
    log_request_answered,
    log_request_create,
    log_request_payload,
    log_status_record,
    log_upload_check,
    log_upload_store,
    upload_max_bytes,
)
from apps.diagnostics.services.monitoring import (
    event_acknowledge,
    events_record,
    monitoring_base_answered,
    monitoring_clear_answered,
    monitoring_level_answered,
    monitoring_report_answered,
    monitoring_report_part,
    monitoring_set_answered,
)

__all__ = [
    "UploadRefused",
    "customer_information_part",
    "diagnostics_settings_get",
    "diagnostics_settings_update",
    "display_message_clear_answered",
    "display_message_next_id",
    "display_message_set_answered",
    "display_messages_answered",
    "display_messages_part",
    "event_acknowledge",
    "events_record",
    "log_request_answered",
    "log_request_create",
    "log_request_payload",
    "log_status_record",
    "log_upload_check",
    "log_upload_store",
    "monitoring_base_answered",
    "monitoring_clear_answered",
    "monitoring_level_answered",
    "monitoring_report_answered",
    "monitoring_report_part",
    "monitoring_set_answered",
    "station_request_answered",
    "station_request_create",
    "upload_max_bytes",
]
