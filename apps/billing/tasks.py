"""Billing tasks. They run in the schema they were queued from (tenant-schemas-celery)."""

from celery import shared_task

from apps.billing import services
from apps.billing.models import Invoice
from apps.billing.schedule import CREATE_MISSING_CDRS_EVERY_S
from apps.charging.models import Transaction
from apps.core.fanout import fan_out, jitter_for


@shared_task(
    name="billing.create_cdr",
    soft_time_limit=120,
    time_limit=180,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def create_cdr(transaction_id: int) -> None:
    tx = Transaction.objects.filter(pk=transaction_id, status=Transaction.Status.COMPLETED).first()
    if tx is not None:
        services.cdr_create_for_transaction(transaction=tx)


@shared_task(
    name="billing.correct_cdr",
    soft_time_limit=120,
    time_limit=180,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def correct_cdr(transaction_id: int) -> None:
    """A completed transaction's figures changed (2.x events delivered late): a CDR priced
    on the old figures is corrected -- here, off the charger's path."""
    services.cdr_correct_for_transaction(
        transaction_pk=transaction_id,
        reason="Transaction events delivered late changed the session's start or meter readings.",
    )


@shared_task(name="billing.create_missing_cdrs", soft_time_limit=30, time_limit=60, ignore_result=True)
def create_missing_cdrs() -> int:
    """Beat: create_missing_cdrs_in_schema in every organisation."""
    every = CREATE_MISSING_CDRS_EVERY_S
    return fan_out(create_missing_cdrs_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="billing.create_missing_cdrs_in_schema", soft_time_limit=600, time_limit=660, ignore_result=True)
def create_missing_cdrs_in_schema() -> int:
    """Safety net for create_cdr publishes lost after commit (a broker blip when a session
    ends): the CDRs of sessions completed in the last 24 hours that have none."""
    return services.cdr_create_missing().created


@shared_task(
    name="billing.send_invoice",
    soft_time_limit=120,
    time_limit=180,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_invoice(invoice_id: int) -> None:
    invoice = Invoice.objects.select_related("cdr").filter(pk=invoice_id).first()
    if invoice is not None:
        services.invoice_send(invoice=invoice)
