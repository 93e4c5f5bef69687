"""Refunds from the portal: partial or full, at most what was captured, recorded with who did it."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction as db_transaction
from django.db.models import F

from apps.accounts.permissions import CAN_MOVE_MONEY, user_has_role
from apps.core.money import quantize
from apps.payments import gateways
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment, PaymentOperation
from apps.payments.selectors import gateway_config


def payment_refund(
    *, payment: Payment, user, reason: str, idempotency_key: str, amount: Decimal | None = None
) -> PaymentOperation:
    """Refund `amount` (default: all that is left). The amount is reserved on the payment before
    the gateway is called, so two refunds racing cannot together exceed the capture; a refused
    refund gives its reservation back. The same key (a double-submitted form) refunds once."""
    if not user_has_role(user, CAN_MOVE_MONEY):
        raise PermissionDenied("Only administrators refund payments.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the payment is refunded."})
    return refund_execute(payment=payment, user=user, reason=reason, idempotency_key=idempotency_key, amount=amount)


def refund_execute(
    *, payment: Payment, user, reason: str, idempotency_key: str, amount: Decimal | None = None
) -> PaymentOperation:
    """The refund itself, without the permission check: staff through payment_refund, the
    platform itself (user None) for a corrected CDR that cost less."""
    key = f"{payment.merchant_reference}:refund:{idempotency_key}"
    existing = PaymentOperation.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    payment.refresh_from_db()
    amount = quantize(Decimal(amount if amount is not None else payment.refundable), payment.currency)
    if amount <= 0:
        raise ValidationError({"amount": "Nothing is left to refund."})
    with db_transaction.atomic():
        reserved = Payment.objects.filter(
            pk=payment.pk, status=Payment.Status.CAPTURED, amount_refunded__lte=F("amount_captured") - amount
        ).update(amount_refunded=F("amount_refunded") + amount)
        if not reserved:
            raise ValidationError({"amount": f"At most {payment.refundable} {payment.currency} can be refunded."})
        op = PaymentOperation.objects.create(
            payment=payment,
            kind=PaymentOperation.Kind.REFUND,
            status=PaymentOperation.Status.PENDING,
            amount=amount,
            currency=payment.currency,
            idempotency_key=key,
            created_by=user,
            error=f"Reason: {reason.strip()}"[:2000],
        )
    gateway = gateways.gateway_for(gateway_config())
    try:
        # Our operation key as the refund's reference: its webhook finds this row.
        result = gateway.refund(
            reference=payment.reference,
            amount=amount,
            currency=payment.currency,
            merchant_reference=key,
            idempotency_key=key,
        )
    except GatewayUnavailable as exc:
        # Unknown outcome: the reservation stays and the webhook (or a retry with this key) settles it.
        PaymentOperation.objects.filter(pk=op.pk).update(error=f"{op.error}\nGateway unavailable: {exc}"[:2000])
        op.refresh_from_db()
        return op
    with db_transaction.atomic():
        if result.ok:
            status = (
                PaymentOperation.Status.SUCCEEDED if result.status == "succeeded" else PaymentOperation.Status.PENDING
            )
            PaymentOperation.objects.filter(pk=op.pk).update(status=status, provider_reference=result.reference)
        else:
            refund_release(op=op, error=result.error)
    op.refresh_from_db()
    return op


def refund_release(*, op: PaymentOperation, error: str) -> None:
    """A refund that failed gives its reserved amount back (once: only from a non-failed state)."""
    changed = (
        PaymentOperation.objects.filter(pk=op.pk)
        .exclude(status=PaymentOperation.Status.FAILED)
        .update(status=PaymentOperation.Status.FAILED, error=f"{op.error}\n{error}"[:2000])
    )
    if changed:
        Payment.objects.filter(pk=op.payment_id).update(amount_refunded=F("amount_refunded") - op.amount)
