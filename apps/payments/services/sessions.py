"""The card side of a charging session: pre-authorise at start, capture the CDR total at the end
(release when nothing was delivered), retry failed captures; and wallet top-ups."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import F

from apps.core.money import quantize
from apps.payments import gateways
from apps.payments.gateways.base import GatewayResult, GatewayUnavailable, to_minor
from apps.payments.models import Payment, PaymentOperation
from apps.payments.selectors import gateway_config

log = logging.getLogger(__name__)
Status = Payment.Status
AUTHORIZED_WORDS = ("requires_capture", "Authorised")  # Stripe, Adyen
CAPTURED_WORDS = ("succeeded",)  # Stripe answers a capture synchronously; Adyen says "received"
MAX_CAPTURE_ATTEMPTS = 6


def _new_reference(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def _operation(payment: Payment, kind: str, amount: Decimal, key: str, user=None) -> PaymentOperation:
    """The call written down (committed) before it is made; the same key finds the same row."""
    op, _ = PaymentOperation.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "payment": payment,
            "kind": kind,
            "status": PaymentOperation.Status.PENDING,
            "amount": amount,
            "currency": payment.currency,
            "created_by": user,
        },
    )
    return op


def _finish(op: PaymentOperation, result: GatewayResult, *, confirmed: bool) -> None:
    if not result.ok:
        status = PaymentOperation.Status.FAILED
    else:
        status = PaymentOperation.Status.SUCCEEDED if confirmed else PaymentOperation.Status.PENDING
    PaymentOperation.objects.filter(pk=op.pk).update(
        status=status, provider_reference=result.reference or op.provider_reference, error=result.error[:2000]
    )


def payment_preauthorize_session(
    *, transaction, user=None, payment_method=None, customer: str = "", return_url: str = ""
) -> Payment:
    """Hold the organisation's pre-authorisation amount on the driver's card for a session.
    Once per session (a retry returns the same payment)."""
    config = gateway_config()
    gateway = gateways.gateway_for(config)
    from apps.wallets.selectors import organization_currency

    try:
        with db_transaction.atomic():
            payment = Payment.objects.create(
                kind=Payment.Kind.SESSION,
                provider=config.provider,
                currency=organization_currency(),
                merchant_reference=_new_reference("sess"),
                transaction=transaction,
                user=user,
            )
    except IntegrityError:
        payment = Payment.objects.get(kind=Payment.Kind.SESSION, transaction=transaction)
    if payment.status != Status.PENDING or payment.reference:
        return payment
    amount = quantize(config.preauth_amount, payment.currency)
    key = f"{payment.merchant_reference}:authorize"
    op = _operation(payment, PaymentOperation.Kind.AUTHORIZE, amount, key, user)
    result = gateway.authorize(
        amount=amount,
        currency=payment.currency,
        merchant_reference=payment.merchant_reference,
        idempotency_key=key,
        manual_capture=True,
        payment_method=payment_method,
        customer=customer,
        return_url=return_url,
    )
    _record_authorization(payment, op, result, amount)
    payment.refresh_from_db()
    return payment


def _record_authorization(payment: Payment, op: PaymentOperation, result: GatewayResult, amount: Decimal) -> None:
    with db_transaction.atomic():
        _finish(op, result, confirmed=result.status in AUTHORIZED_WORDS)
        fields = {"reference": result.reference, "last_error": result.error}
        if not result.ok:
            fields["status"] = Status.FAILED
        elif result.status in AUTHORIZED_WORDS:
            fields.update(status=Status.AUTHORIZED, amount_authorized=amount)
        # Otherwise the browser still has a step to do (3-D Secure): a webhook tells the outcome.
        Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(**fields)


def _cdr_amount(cdr, currency: str) -> Decimal:
    if cdr.currency == currency:
        return quantize(cdr.total_cost_incl_vat, currency)
    if cdr.organization_currency == currency and cdr.converted_total_incl_vat is not None:
        return quantize(cdr.converted_total_incl_vat, currency)
    raise ValidationError(f"CDR {cdr.cdr_id} has no amount in {currency}.")


def payment_capture_for_cdr(*, cdr) -> Payment | None:
    """Capture a session's final cost from its pre-authorisation; release the hold when the
    session cost nothing. None when the session was not paid by card."""
    payment = Payment.objects.filter(kind=Payment.Kind.SESSION, transaction_id=cdr.transaction_id).first()
    if payment is None:
        return None
    amount = _cdr_amount(cdr, payment.currency)
    Payment.objects.filter(pk=payment.pk, amount_due__isnull=True).update(cdr=cdr, amount_due=amount)
    payment.refresh_from_db()
    if payment.amount_due == 0:
        return payment_release(payment=payment)
    return payment_capture(payment=payment)


def payment_capture(*, payment: Payment) -> Payment:
    """Capture `amount_due`. Safe to call again (task retry, portal button): the idempotency key
    depends only on the amount, so the gateway captures once."""
    claimed = Payment.objects.filter(
        pk=payment.pk, status__in=[Status.AUTHORIZED, Status.CAPTURE_FAILED], amount_due__gt=0
    ).update(capture_attempts=F("capture_attempts") + 1)
    payment.refresh_from_db()
    if not claimed:
        return payment
    gateway = gateways.gateway_for(gateway_config())
    amount = payment.amount_due
    if amount > payment.amount_authorized and gateway.supports_amount_update:
        minor = to_minor(amount, payment.currency)
        key = f"{payment.merchant_reference}:update:{minor}"
        op = _operation(payment, PaymentOperation.Kind.UPDATE, amount, key)
        try:
            result = gateway.update_amount(
                reference=payment.reference,
                amount=amount,
                currency=payment.currency,
                merchant_reference=payment.merchant_reference,
                idempotency_key=key,
            )
        except GatewayUnavailable as exc:
            return _capture_failed(payment, None, str(exc))
        _finish(op, result, confirmed=False)
        if result.ok:
            Payment.objects.filter(pk=payment.pk).update(amount_authorized=amount)
            payment.amount_authorized = amount
    # Stripe cannot capture more than it holds: the rest is a shortfall the operator collects.
    capture_amount = min(amount, payment.amount_authorized)
    key = f"{payment.merchant_reference}:capture:{to_minor(capture_amount, payment.currency)}"
    op = _operation(payment, PaymentOperation.Kind.CAPTURE, capture_amount, key)
    try:
        result = gateway.capture(
            reference=payment.reference,
            amount=capture_amount,
            currency=payment.currency,
            merchant_reference=payment.merchant_reference,
            idempotency_key=key,
        )
    except GatewayUnavailable as exc:
        return _capture_failed(payment, op, str(exc))
    if not result.ok:
        _finish(op, result, confirmed=False)
        return _capture_failed(payment, None, result.error or result.status, retry=False)
    confirmed = result.status in CAPTURED_WORDS
    shortfall = amount - capture_amount
    with db_transaction.atomic():
        _finish(op, result, confirmed=confirmed)
        fields = {"last_error": f"Cost exceeds the hold by {shortfall} {payment.currency}." if shortfall else ""}
        if confirmed:
            fields.update(status=Status.CAPTURED, amount_captured=capture_amount)
        else:
            fields["status"] = Status.CAPTURE_PENDING
        Payment.objects.filter(pk=payment.pk, status__in=[Status.AUTHORIZED, Status.CAPTURE_FAILED]).update(**fields)
    payment.refresh_from_db()
    return payment


def _capture_failed(payment: Payment, op: PaymentOperation | None, error: str, retry: bool = True) -> Payment:
    """Shown in the portal; a gateway that was unreachable is retried with backoff."""
    log.warning("capture of %s failed: %s", payment.merchant_reference, error)
    with db_transaction.atomic():
        if op is not None:
            PaymentOperation.objects.filter(pk=op.pk, status=PaymentOperation.Status.PENDING).update(error=error[:2000])
        Payment.objects.filter(pk=payment.pk, status__in=[Status.AUTHORIZED, Status.CAPTURE_FAILED]).update(
            status=Status.CAPTURE_FAILED, last_error=error[:2000]
        )
        if retry and payment.capture_attempts < MAX_CAPTURE_ATTEMPTS:
            from apps.payments.tasks import retry_capture

            countdown = 60 * 2 ** (payment.capture_attempts - 1)  # 1, 2, 4, 8, 16 minutes
            db_transaction.on_commit(lambda: retry_capture.apply_async(args=[payment.pk], countdown=countdown))
    payment.refresh_from_db()
    return payment


def payment_release(*, payment: Payment) -> Payment:
    """Cancel the hold (nothing was delivered, or the session never started)."""
    if payment.status not in (Status.PENDING, Status.AUTHORIZED, Status.CAPTURE_FAILED) or not payment.reference:
        return payment
    gateway = gateways.gateway_for(gateway_config())
    key = f"{payment.merchant_reference}:cancel"
    op = _operation(payment, PaymentOperation.Kind.CANCEL, Decimal(0), key)
    result = gateway.cancel(
        reference=payment.reference, merchant_reference=payment.merchant_reference, idempotency_key=key
    )
    with db_transaction.atomic():
        _finish(op, result, confirmed=result.status == "canceled")
        if result.ok:
            Payment.objects.filter(
                pk=payment.pk, status__in=[Status.PENDING, Status.AUTHORIZED, Status.CAPTURE_FAILED]
            ).update(status=Status.CANCELLED, last_error="")
        else:
            Payment.objects.filter(pk=payment.pk).update(last_error=result.error[:2000])
    payment.refresh_from_db()
    return payment


def payment_topup_start(*, account, amount: Decimal, user, payment_method=None, return_url: str = "") -> Payment:
    """Start a wallet top-up (captured at once). The wallet is credited only when the gateway's
    webhook confirms the money (apps.payments.services.events)."""
    from apps.wallets.models import GroupWallet
    from apps.wallets.selectors import group_may_top_up

    group = GroupWallet.objects.filter(account=account).first()
    if group is not None and not group_may_top_up(group=group, user=user):
        raise PermissionDenied("You may not top up this group wallet.")
    if group is None and account.owner_id != user.pk:
        raise PermissionDenied("This is not your wallet.")
    amount = quantize(Decimal(amount), account.currency)
    if amount <= 0:
        raise ValidationError({"amount": "The amount must be positive."})
    config = gateway_config()
    gateway = gateways.gateway_for(config)
    payment = Payment.objects.create(
        kind=Payment.Kind.TOPUP,
        provider=config.provider,
        currency=account.currency,
        merchant_reference=_new_reference("topup"),
        wallet=account,
        user=user,
    )
    key = f"{payment.merchant_reference}:authorize"
    op = _operation(payment, PaymentOperation.Kind.AUTHORIZE, amount, key, user)
    result = gateway.authorize(
        amount=amount,
        currency=payment.currency,
        merchant_reference=payment.merchant_reference,
        idempotency_key=key,
        manual_capture=False,
        payment_method=payment_method,
        return_url=return_url,
    )
    with db_transaction.atomic():
        _finish(op, result, confirmed=False)
        Payment.objects.filter(pk=payment.pk).update(
            reference=result.reference,
            amount_authorized=amount,
            status=Status.PENDING if result.ok else Status.FAILED,
            last_error=result.error,
        )
    payment.refresh_from_db()
    # For the app or browser to confirm the card; never stored.
    payment.client_secret, payment.client_action = result.client_secret, result.action
    return payment
