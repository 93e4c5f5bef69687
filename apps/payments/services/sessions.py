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
from apps.payments.gateways.base import GatewayResult, GatewayUnavailable, from_minor, to_minor
from apps.payments.models import Payment, PaymentOperation
from apps.payments.platform import reference_prefix
from apps.payments.selectors import gateway_config
from apps.payments.signals import hold_authorized_after_commit
from apps.wallets.models import GroupWallet
from apps.wallets.selectors import group_may_top_up, organization_currency

log = logging.getLogger(__name__)
Status = Payment.Status
AUTHORIZED_WORDS = ("requires_capture", "Authorised")  # Stripe, Adyen
CAPTURED_WORDS = ("succeeded",)  # Stripe answers a capture synchronously; Adyen says "received"
# An off-session authorisation the gateway decides later (its webhook tells): Adyen, Stripe.
OFF_SESSION_WAITING = ("Pending", "Received", "processing")
MAX_CAPTURE_ATTEMPTS = 6
REFERENCE_PLACEHOLDER = "__reference__"


def _new_reference(kind: str) -> str:
    # The organisation prefix routes webhooks of the shared platform account (apps.payments.platform).
    return f"{reference_prefix()}{kind}-{uuid.uuid4().hex}"


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
    *, transaction, user=None, payment_method=None, customer: str = "", return_url: str = "", saved_card=None
) -> Payment:
    """Hold the organisation's pre-authorisation amount on the driver's card for a session.
    Once per session (a retry returns the same payment). With `saved_card` (a card on file) the
    hold is made off-session: the driver is not there, so anything but an authorisation (or
    the gateway's "pending") is a decline."""
    config = gateway_config()
    gateway = gateways.gateway_for(config)

    try:
        with db_transaction.atomic():
            payment = Payment.objects.create(
                kind=Payment.Kind.SESSION,
                provider=config.provider,
                currency=organization_currency(),
                merchant_reference=_new_reference("sess"),
                transaction=transaction,
                user=user,
                saved_card=saved_card,
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
    if saved_card is not None and result.ok and result.status not in (*AUTHORIZED_WORDS, *OFF_SESSION_WAITING):
        # 3-D Secure or a redirect asked for: impossible without the driver, so a decline.
        result = GatewayResult(
            ok=False,
            reference=result.reference,
            status=result.status,
            error=f"The bank asked for the cardholder ({result.status}): not possible off-session.",
            raw=result.raw,
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
        changed = Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(**fields)
        if changed and fields.get("status") == Status.AUTHORIZED:
            hold_authorized_after_commit(payment.pk)


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
    if payment.status == Status.FAILED:
        # The hold was declined (a card on file) but the energy was delivered: what the session
        # cost is owed, for finance to collect (listed under "needs attention").
        _owed_without_hold(payment)
        payment.refresh_from_db()
        return payment
    if payment.amount_due == 0:
        return payment_release(payment=payment)
    return payment_capture(payment=payment)


def _owed_without_hold(payment: Payment) -> None:
    if payment.amount_due:
        note = f"{payment.last_error}\nOwed {payment.amount_due} {payment.currency}: no hold to capture."
        Payment.objects.filter(pk=payment.pk, status=Status.FAILED, amount_outstanding=0).update(
            amount_outstanding=payment.amount_due, last_error=note.strip()[:2000]
        )


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
        fields["amount_outstanding"] = shortfall  # a receivable for finance (README: corrections)
        if confirmed:
            fields.update(status=Status.CAPTURED, amount_captured=capture_amount)
        else:
            fields["status"] = Status.CAPTURE_PENDING
        Payment.objects.filter(pk=payment.pk, status__in=[Status.AUTHORIZED, Status.CAPTURE_FAILED]).update(**fields)
    payment.refresh_from_db()
    if payment.status == Status.CAPTURED:
        _queue_fee_fetch(payment)
    return payment


def _queue_fee_fetch(payment: Payment) -> None:
    if payment.provider == "stripe" and not payment.fee:
        from apps.payments.tasks import fetch_fee

        db_transaction.on_commit(lambda: fetch_fee.apply_async(args=[payment.pk], countdown=30), robust=True)


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


def payment_topup_start(
    *, account, amount: Decimal, user, payment_method=None, return_url: str = "", browser: bool = False
) -> Payment:
    """Start a wallet top-up (captured at once). The wallet is credited only when the gateway's
    webhook confirms the money (apps.payments.services.events)."""

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
    # The page to come back to after a redirect (3-D Secure) names the payment, unknown till now.
    return_url = return_url.replace(REFERENCE_PLACEHOLDER, payment.merchant_reference)
    if browser:  # card entry in our page (Stripe Payment Element / Adyen Drop-in session)
        result = _checkout_call(gateway, payment, amount, key, manual_capture=False, return_url=return_url)
    else:
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


# ------------------------------------------------------------------ card entry in the browser


def _checkout_call(
    gateway, payment: Payment, amount: Decimal, key: str, *, manual_capture: bool, return_url: str, email: str = ""
) -> GatewayResult:
    return gateway.checkout(
        amount=amount,
        currency=payment.currency,
        merchant_reference=payment.merchant_reference,
        idempotency_key=key,
        manual_capture=manual_capture,
        return_url=return_url,
        shopper_email=email,
    )


def payment_hold_start(*, merchant_reference_seed: str, id_tag: str, email: str, return_url: str) -> Payment:
    """A session hold (GatewayConfig.preauth_amount) the shopper confirms in the browser before
    the session starts (a guest at the QR page). The Transaction does not exist yet: it is linked
    later by `id_tag` (payment_link_by_id_tag). Once per seed: the merchant reference is derived
    from it (unique), and the gateway call's idempotency key from that, so a double click or a
    retried request makes one hold."""
    config = gateway_config()
    gateway = gateways.gateway_for(config)

    reference = f"{reference_prefix()}guest-{merchant_reference_seed}"
    try:
        with db_transaction.atomic():
            payment = Payment.objects.create(
                kind=Payment.Kind.SESSION,
                provider=config.provider,
                currency=organization_currency(),
                merchant_reference=reference,
                id_tag=id_tag,
            )
    except IntegrityError:
        payment = Payment.objects.get(merchant_reference=reference)
    payment.client_secret, payment.client_action = "", None
    if payment.status != Status.PENDING or payment.operations.exists():
        return payment_checkout_resume(payment=payment, return_url=return_url, email=email)
    amount = quantize(config.preauth_amount, payment.currency)
    key = f"{payment.merchant_reference}:authorize"
    op = _operation(payment, PaymentOperation.Kind.AUTHORIZE, amount, key)
    result = _checkout_call(gateway, payment, amount, key, manual_capture=True, return_url=return_url, email=email)
    with db_transaction.atomic():
        _finish(op, result, confirmed=False)
        Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
            reference=result.reference,
            amount_authorized=amount,
            status=Status.PENDING if result.ok else Status.FAILED,
            last_error=result.error,
        )
    payment.refresh_from_db()
    payment.client_secret, payment.client_action = result.client_secret, result.action
    return payment


def payment_checkout_resume(*, payment: Payment, return_url: str, email: str = "") -> Payment:
    """What the browser needs to (re)show the card form of a pending payment (a reload, another
    tab). client_secret / session data are never stored: the start call is repeated with its
    own idempotency key, for which the gateway answers what it answered the first time."""
    payment.client_secret, payment.client_action = "", None
    if payment.status != Status.PENDING:
        return payment
    op = payment.operations.filter(kind=PaymentOperation.Kind.AUTHORIZE).order_by("id").first()
    if op is None:
        return payment
    gateway = gateways.gateway_for(gateway_config())
    result = _checkout_call(
        gateway,
        payment,
        op.amount,
        op.idempotency_key,
        manual_capture=payment.kind == Payment.Kind.SESSION,
        return_url=return_url,
        email=email,
    )
    payment.client_secret, payment.client_action = result.client_secret, result.action
    return payment


def payment_refresh(*, payment: Payment) -> Payment:
    """Synchronous confirmation, asked for when the browser says the card step is done: the
    gateway's current state of the payment (Stripe; Adyen only tells by webhook). Applied with
    the same forward-only conditional updates as webhooks, so racing one changes nothing."""
    if payment.status != Status.PENDING or not payment.reference:
        return payment
    result = gateways.gateway_for(gateway_config()).retrieve(reference=payment.reference)
    if result is None or not result.ok and result.status != "canceled":
        return payment
    with db_transaction.atomic():
        if payment.kind == Payment.Kind.SESSION and result.status == "requires_capture":
            amount = from_minor(result.raw.get("amount_capturable") or 0, payment.currency) or payment.amount_authorized
            if Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
                status=Status.AUTHORIZED, amount_authorized=amount
            ):
                PaymentOperation.objects.filter(
                    payment=payment, kind=PaymentOperation.Kind.AUTHORIZE, status=PaymentOperation.Status.PENDING
                ).update(status=PaymentOperation.Status.SUCCEEDED)
                hold_authorized_after_commit(payment.pk)
        elif result.status == "canceled":
            Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(status=Status.FAILED)
        # A top-up's "succeeded" is left to its webhook: that is what credits the wallet, once.
    payment.refresh_from_db()
    return payment


def payment_link_by_id_tag(*, transaction) -> Payment | None:
    """Attach a pay-first hold (made before the session existed) to the session started with its
    id token, so that payment_capture_for_cdr finds it. Conditional: linked once; the unique
    constraint one_preauth_per_session keeps a session from getting two holds."""
    if not transaction.id_tag:
        return None
    payment = (
        Payment.objects.filter(kind=Payment.Kind.SESSION, transaction__isnull=True, id_tag__iexact=transaction.id_tag)
        .order_by("-id")
        .first()
    )
    if payment is None:
        return Payment.objects.filter(kind=Payment.Kind.SESSION, transaction=transaction).first()
    try:
        with db_transaction.atomic():
            Payment.objects.filter(pk=payment.pk, transaction__isnull=True).update(transaction=transaction)
    except IntegrityError:  # the session already has its payment
        pass
    return Payment.objects.filter(kind=Payment.Kind.SESSION, transaction=transaction).first()


def payment_fee_fetch(*, payment: Payment) -> Decimal | None:
    """Ask the gateway for a captured payment's fee (Stripe's balance transaction). Stored on the
    payment and its capture for the reconciliation only when in the payment's currency: a fee
    in another settlement currency is noted on the capture rather than mixed into our sums."""
    try:
        found = gateways.gateway_for(gateway_config()).fetch_fee(reference=payment.reference)
    except GatewayUnavailable:
        return None
    if found is None:
        return None
    fee, currency = found
    capture = (
        payment.operations.filter(kind=PaymentOperation.Kind.CAPTURE)
        .exclude(status=PaymentOperation.Status.FAILED)
        .order_by("-id")
        .first()
    )
    with db_transaction.atomic():
        if currency != payment.currency:
            if capture is not None:
                PaymentOperation.objects.filter(pk=capture.pk).update(
                    error=f"{capture.error}\nGateway fee {fee} {currency} (settlement currency).".strip()[:2000]
                )
            return fee
        Payment.objects.filter(pk=payment.pk, fee=0).update(fee=fee)
        if capture is not None:
            PaymentOperation.objects.filter(pk=capture.pk, fee=0).update(fee=fee)
    return fee
