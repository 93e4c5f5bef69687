"""Writes for billing (`<entity>_<verb>`, keyword-only, atomic)."""

from apps.billing.services.cdrs import (
    cdr_correct,
    cdr_correct_for_transaction,
    cdr_create_for_transaction,
    cdr_create_missing,
)
from apps.billing.services.delivery import invoice_send
from apps.billing.services.invoices import credit_note_issue, invoice_issue_for_cdr
from apps.billing.services.numbering import number_next

__all__ = [
    "cdr_correct",
    "cdr_correct_for_transaction",
    "cdr_create_for_transaction",
    "cdr_create_missing",
    "credit_note_issue",
    "invoice_issue_for_cdr",
    "invoice_send",
    "number_next",
]
