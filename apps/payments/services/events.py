"""Webhook events: stored first (for audit, unique per gateway event id), then applied once.

Gateways deliver at least once and in any order, so every transition is conditional on the
payment's current state and only moves forward: a late "authorised" never undoes a capture,
a "cancelled" after a capture is ignored, a redelivered event finds itself already processed.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from apps.payments.gateways.base import GatewayEvent
from apps.payments.models import Payment, PaymentOperation, SavedCard, WebhookEvent
from apps.payments.services.card_on_file import payment_declined
from apps.payments.services.cards import card_event_apply
from apps.payments.services.refunds import refund_release
from apps.payments.signals import hold_authorized_after_commit
from apps.wallets.services import wallet_topup_confirm

Status = Payment.Status
OpStatus = PaymentOperation.Status


def webhook_event_record(*, provider: str, event: GatewayEvent) -> WebhookEvent:
    try:
        with db_transaction.atomic():
            return WebhookEvent.objects.create(
                provider=provider, event_id=event.event_id, event_type=event.provider_type, payload=event.payload
            )
    except IntegrityError:  # delivered before (or concurrently): the stored row decides
        return WebhookEvent.objects.get(provider=provider, event_id=event.event_id)


@db_transaction.atomic
def webhook_event_process(*, stored: WebhookEvent, event: GatewayEvent) -> str:
    stored = WebhookEvent.objects.select_for_update().get(pk=stored.pk)
    if stored.processed_at is not None:
        return "duplicate"
    if event.rejected:
        # Signed but unreadable (GatewayEvent.rejected): kept for the audit trail, done with.
        stored.processed_at, stored.result = timezone.now(), f"rejected: {event.rejected}"[:255]
        stored.save(update_fields=["processed_at", "result"])
        return "rejected"
    result = _apply(stored.provider, event)
    stored.processed_at, stored.result = timezone.now(), result[:255]
    stored.save(update_fields=["processed_at", "result"])
    return result


def _find_payment(provider: str, event: GatewayEvent) -> Payment | None:
    refs = Q()
    if event.merchant_reference:
        refs |= Q(merchant_reference=event.merchant_reference)
        if ":refund:" in event.merchant_reference:  # our refund operation's key
            refs |= Q(merchant_reference=event.merchant_reference.split(":", 1)[0])
    if event.payment_reference:
        refs |= Q(provider=provider, reference=event.payment_reference)
    if not refs:
        return None
    return Payment.objects.select_for_update().filter(refs).first()


def _find_card(event: GatewayEvent):
    """The card being saved that an event is about: by our setup reference (`...card-<hex>`),
    else (an Adyen RECURRING_CONTRACT without it) by the zero-value authorisation's pspReference."""

    cards = SavedCard.objects.select_related("customer")
    if "card-" in event.merchant_reference:
        card = cards.filter(setup_reference=event.merchant_reference).first()
        if card is not None:
            return card
    if event.kind in ("card_saved", "card_failed") and event.payment_reference:
        return cards.filter(setup_gateway_reference=event.payment_reference).first()
    return None


def _apply(provider: str, event: GatewayEvent) -> str:
    card = _find_card(event)
    if card is not None:
        return card_event_apply(card=card, event=event)
    if event.kind in ("card_saved", "card_failed"):
        return "ignored: unknown card"
    payment = _find_payment(provider, event)
    if payment is None:
        return "ignored: unknown payment"
    kind = event.kind
    # Adyen top-ups are captured automatically: a successful authorisation is the money.
    if kind == "authorized" and payment.kind == Payment.Kind.TOPUP and provider == "adyen":
        kind = "captured"
    if kind == "authorized":
        n = Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
            status=Status.AUTHORIZED,
            amount_authorized=event.amount if event.amount is not None else payment.amount_authorized,
            reference=payment.reference or event.payment_reference,
        )
        if n:
            PaymentOperation.objects.filter(
                payment=payment, kind=PaymentOperation.Kind.AUTHORIZE, status=OpStatus.PENDING
            ).update(status=OpStatus.SUCCEEDED, provider_reference=event.payment_reference)
            if payment.kind == Payment.Kind.SESSION:
                hold_authorized_after_commit(payment.pk)  # a guest's session may start now
                if payment.amount_due is not None:
                    _capture_due_after_commit(payment.pk)  # the CDR came before the "pending" hold was decided
        return "authorized" if n else f"ignored: already {payment.status}"
    if kind == "captured":
        return _captured(payment, event)
    if kind == "capture_failed":
        n = Payment.objects.filter(
            pk=payment.pk, status__in=[Status.AUTHORIZED, Status.CAPTURE_PENDING, Status.CAPTURE_FAILED]
        ).update(status=Status.CAPTURE_FAILED, last_error="The gateway reported the capture failed.")
        return "capture failed" if n else f"ignored: already {payment.status}"
    if kind == "cancelled":
        n = Payment.objects.filter(
            pk=payment.pk, status__in=[Status.PENDING, Status.AUTHORIZED, Status.CAPTURE_FAILED]
        ).update(status=Status.CANCELLED)
        return "cancelled" if n else f"ignored: already {payment.status}"
    if kind == "failed":
        n = Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(status=Status.FAILED)
        if n and payment.kind == Payment.Kind.SESSION and payment.saved_card_id:
            payment.refresh_from_db()
            payment_declined(payment=payment)  # a card on file refused after all: stop, owe
        return "failed" if n else f"ignored: already {payment.status}"
    if kind in ("refunded", "refund_failed"):
        return _refund_event(payment, event, kind)
    return f"ignored: {event.provider_type}"


def _capture_due_after_commit(payment_id: int) -> None:
    from apps.payments.tasks import capture_due

    db_transaction.on_commit(lambda: capture_due.delay(payment_id), robust=True)


def _captured(payment: Payment, event: GatewayEvent) -> str:
    amount = event.amount if event.amount is not None else payment.amount_due or payment.amount_authorized
    n = (
        Payment.objects.filter(pk=payment.pk)
        .exclude(status=Status.CAPTURED)
        .update(
            status=Status.CAPTURED,
            amount_captured=amount,
            fee=event.fee or payment.fee,
            last_error="",
            # Adyen Drop-in sessions: the pspReference is first known from this event.
            reference=payment.reference or event.payment_reference,
        )
    )
    captures = PaymentOperation.objects.filter(payment=payment, kind=PaymentOperation.Kind.CAPTURE)
    captures.filter(status=OpStatus.PENDING).update(status=OpStatus.SUCCEEDED)
    if event.fee is not None:  # the reconciliation reports fees per capture day
        last = captures.exclude(status=OpStatus.FAILED).order_by("-id").first()
        if last is not None:
            PaymentOperation.objects.filter(pk=last.pk).update(fee=event.fee)
    if n:
        _after_capture(payment, fee_known=event.fee is not None)
    if payment.kind == Payment.Kind.TOPUP and payment.wallet_id:
        # Idempotent per payment on its own: a capture seen twice credits once.
        wallet_topup_confirm(
            account=payment.wallet,
            amount=amount,
            currency=event.currency or payment.currency,
            payment_reference=payment.merchant_reference,
            member=payment.user,
        )
        return "top-up credited"
    return "captured" if n else "ignored: already captured"


def _after_capture(payment: Payment, *, fee_known: bool) -> None:
    from apps.payments.tasks import apply_waiting_corrections, fetch_fee

    pk = payment.pk
    if payment.provider == "stripe" and not fee_known:
        # payment_intent events do not expand the charge's balance transaction: ask for the fee.
        db_transaction.on_commit(lambda: fetch_fee.apply_async(args=[pk], countdown=30), robust=True)
    if payment.corrections.filter(outcome="waiting_capture").exists():
        db_transaction.on_commit(lambda: apply_waiting_corrections.delay(pk), robust=True)


def _refund_event(payment: Payment, event: GatewayEvent, kind: str) -> str:
    ops = PaymentOperation.objects.select_for_update().filter(payment=payment, kind=PaymentOperation.Kind.REFUND)
    op = None
    if event.merchant_reference:
        op = ops.filter(idempotency_key=event.merchant_reference).first()
    if op is None and event.modification_reference:
        op = ops.filter(provider_reference=event.modification_reference).first()
    if kind == "refund_failed":
        if op is None:
            return "ignored: unknown refund"
        refund_release(op=op, error="The gateway reported the refund failed.")
        return "refund failed"
    if op is not None:
        PaymentOperation.objects.filter(pk=op.pk, status=OpStatus.PENDING).update(
            status=OpStatus.SUCCEEDED, provider_reference=op.provider_reference or event.modification_reference
        )
        return "refund confirmed"
    # A refund made in the gateway's own dashboard: record it so the books show it.
    if event.amount is None:
        return "ignored: refund without amount"
    PaymentOperation.objects.create(
        payment=payment,
        kind=PaymentOperation.Kind.REFUND,
        status=OpStatus.SUCCEEDED,
        amount=event.amount,
        currency=payment.currency,
        idempotency_key=f"{payment.merchant_reference}:external-refund:{event.event_id}",
        provider_reference=event.modification_reference,
        error="Refunded outside EVzone (gateway dashboard).",
    )
    # Never past the capture (the database refuses that): a mismatch stays visible in the operation.
    counted = min(event.amount, payment.refundable)
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=payment.amount_refunded + counted)
    return "external refund recorded"
