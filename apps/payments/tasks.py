"""Payment tasks. They run in the schema they were queued from (tenant-schemas-celery)."""

from celery import shared_task

from apps.billing.models import ChargeDetailRecord
from apps.core.fanout import fan_out, jitter_for
from apps.payments import services
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment, SavedCard
from apps.payments.schedule import SWEEP_FAILED_CAPTURES_EVERY_S
from apps.payments.services.sessions import MAX_CAPTURE_ATTEMPTS
from apps.wallets.services import wallet_debit_for_cdr


@shared_task(name="payments.retry_capture", soft_time_limit=180, time_limit=240)
def retry_capture(payment_id: int) -> None:
    """One more capture attempt; a new failure schedules the next one with a longer delay
    (apps.payments.services.sessions._capture_failed), up to MAX_CAPTURE_ATTEMPTS."""
    payment = Payment.objects.filter(pk=payment_id, status=Payment.Status.CAPTURE_FAILED).first()
    if payment is not None:
        services.payment_capture(payment=payment)


@shared_task(
    name="payments.preauthorize_transaction",
    soft_time_limit=180,
    time_limit=240,
    autoretry_for=(GatewayUnavailable, OSError),
    retry_backoff=True,
    max_retries=6,
)
def preauthorize_transaction(transaction_id: int) -> None:
    """After a session starts: hold the pre-authorisation on the driver's card on file, if a card
    pays their sessions. Retries reuse the payment and its idempotency key (one hold)."""
    services.payment_on_transaction_started(transaction_id=transaction_id)


@shared_task(name="payments.stop_unpaid_session", soft_time_limit=180, time_limit=240)
def stop_unpaid_session(payment_id: int) -> None:
    services.payment_stop_unpaid_session(payment_id=payment_id)


@shared_task(
    name="payments.capture_due",
    soft_time_limit=180,
    time_limit=240,
    autoretry_for=(GatewayUnavailable, OSError),
    retry_backoff=True,
    max_retries=5,
)
def capture_due(payment_id: int) -> None:
    """A hold authorised (webhook) after its session's CDR already set what is due."""
    payment = Payment.objects.filter(pk=payment_id, status=Payment.Status.AUTHORIZED, amount_due__isnull=False).first()
    if payment is None:
        return
    if payment.amount_due == 0:
        services.payment_release(payment=payment)
    else:
        services.payment_capture(payment=payment)


@shared_task(
    name="payments.card_details_fetch",
    soft_time_limit=180,
    time_limit=240,
    autoretry_for=(GatewayUnavailable, OSError),
    retry_backoff=True,
    max_retries=5,
)
def card_details_fetch(card_id: int) -> None:
    """Brand, last 4 and expiry of a card saved by webhook (Stripe names only the PaymentMethod)."""

    card = SavedCard.objects.filter(pk=card_id, status=SavedCard.Status.ACTIVE).first()
    if card is not None:
        services.card_details_refresh(card=card)


@shared_task(
    name="payments.settle_cdr",
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(OSError, GatewayUnavailable),
    retry_backoff=True,
    max_retries=5,
)
def settle_cdr(cdr_id: int) -> None:
    """After a CDR is created: capture its card payment or debit its wallet (whichever paid)."""

    cdr = ChargeDetailRecord.objects.select_related("transaction").filter(pk=cdr_id).first()
    if cdr is None:
        return
    # A pay-first session (a guest's hold made before the session existed) is found by its token.
    services.payment_link_by_id_tag(transaction=cdr.transaction)
    if not cdr.is_correction:
        # A card-on-file session whose start hook has not run (worker backlog, hook missing):
        # hold now (idempotent per transaction), then capture below. The session is over, so a
        # decline only makes the cost owed; there is nothing to stop.
        services.payment_on_transaction_started(transaction_id=cdr.transaction_id, stop_on_decline=False)
    if Payment.objects.filter(kind=Payment.Kind.SESSION, transaction_id=cdr.transaction_id).exists():
        if cdr.is_correction:
            services.payment_settle_correction(cdr=cdr)
        else:
            services.payment_capture_for_cdr(cdr=cdr)
    else:
        wallet_debit_for_cdr(cdr=cdr)


@shared_task(name="payments.apply_waiting_corrections", soft_time_limit=180, time_limit=240)
def apply_waiting_corrections(payment_id: int) -> None:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is not None:
        services.payment_apply_waiting_corrections(payment=payment)


@shared_task(
    name="payments.fetch_fee",
    soft_time_limit=180,
    time_limit=240,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def fetch_fee(payment_id: int, attempt: int = 1) -> None:
    """Stripe's fee for a captured payment (its balance transaction), when no event told it.
    Retried a few times: the balance transaction can lag the capture by a moment."""
    payment = Payment.objects.filter(pk=payment_id, status=Payment.Status.CAPTURED, fee=0).first()
    if payment is None:
        return
    if services.payment_fee_fetch(payment=payment) is None and attempt < 5:
        fetch_fee.apply_async(args=[payment_id, attempt + 1], countdown=300 * attempt)


@shared_task(name="payments.sweep_failed_captures", soft_time_limit=30, time_limit=60, ignore_result=True)
def sweep_failed_captures() -> int:
    """Beat: sweep_failed_captures_in_schema in every organisation."""

    every = SWEEP_FAILED_CAPTURES_EVERY_S
    return fan_out(sweep_failed_captures_in_schema, jitter_s=jitter_for(every), expires_s=every)


@shared_task(name="payments.sweep_failed_captures_in_schema", soft_time_limit=60, time_limit=90, ignore_result=True)
def sweep_failed_captures_in_schema() -> int:
    """Safety net for retries lost with a worker: re-queue every failed capture that has
    attempts left and has not been tried for half an hour."""
    import datetime as dt

    from django.utils import timezone

    # Queued from this task, the retries run in its schema (tenant-schemas-celery).
    stale = Payment.objects.filter(
        status=Payment.Status.CAPTURE_FAILED,
        capture_attempts__lt=MAX_CAPTURE_ATTEMPTS,
        updated_at__lt=timezone.now() - dt.timedelta(minutes=30),
    ).values_list("pk", flat=True)
    for pk in stale:
        retry_capture.apply_async(args=[pk])
    return len(stale)
