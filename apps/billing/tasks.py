"""Billing tasks. They run in the schema they were queued from (tenant-schemas-celery)."""

from celery import shared_task

from apps.billing import services
from apps.billing.models import Invoice
from apps.charging.models import Transaction


@shared_task(name="billing.create_cdr", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def create_cdr(transaction_id: int) -> None:
    tx = Transaction.objects.filter(pk=transaction_id, status=Transaction.Status.COMPLETED).first()
    if tx is not None:
        services.cdr_create_for_transaction(transaction=tx)


@shared_task(name="billing.send_invoice", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invoice(invoice_id: int) -> None:
    invoice = Invoice.objects.select_related("cdr").filter(pk=invoice_id).first()
    if invoice is not None:
        services.invoice_send(invoice=invoice)
