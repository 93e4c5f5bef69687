"""Writes for payments (`<entity>_<verb>`, keyword-only).

Calls to a gateway are never made inside a database transaction: a slow gateway would hold
row locks for seconds. Instead each call is written down first (a PaymentOperation with its
idempotency key, committed), then made, then its outcome is recorded in a short transaction.
A crash in between leaves a pending operation whose retry reuses the same key, so the
gateway does the work at most once.
"""

from apps.payments.services.card_on_file import (
    payment_declined,
    payment_on_transaction_started,
    payment_stop_unpaid_session,
)
from apps.payments.services.cards import (
    card_details_refresh,
    card_preference_set,
    card_remove,
    card_set_default,
    card_setup_confirm,
    card_setup_resume,
    card_setup_start,
)
from apps.payments.services.config import gateway_config_save
from apps.payments.services.corrections import payment_apply_waiting_corrections, payment_settle_correction
from apps.payments.services.events import webhook_event_process, webhook_event_record
from apps.payments.services.refunds import payment_refund
from apps.payments.services.sessions import (
    payment_capture,
    payment_capture_for_cdr,
    payment_checkout_resume,
    payment_fee_fetch,
    payment_hold_start,
    payment_link_by_id_tag,
    payment_preauthorize_session,
    payment_refresh,
    payment_release,
    payment_topup_start,
)

__all__ = [
    "card_details_refresh",
    "card_preference_set",
    "card_remove",
    "card_set_default",
    "card_setup_confirm",
    "card_setup_resume",
    "card_setup_start",
    "payment_declined",
    "payment_on_transaction_started",
    "payment_stop_unpaid_session",
    "gateway_config_save",
    "payment_apply_waiting_corrections",
    "payment_checkout_resume",
    "payment_fee_fetch",
    "payment_hold_start",
    "payment_link_by_id_tag",
    "payment_refresh",
    "payment_settle_correction",
    "payment_capture",
    "payment_capture_for_cdr",
    "payment_preauthorize_session",
    "payment_refund",
    "payment_release",
    "payment_topup_start",
    "webhook_event_process",
    "webhook_event_record",
]
