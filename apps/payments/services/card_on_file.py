"""Sessions paid by a card on file: when a driver's session starts, hold
GatewayConfig.preauth_amount off-session on their card (Stripe PaymentIntent with customer,
payment_method, off_session, confirm, manual capture; Adyen /payments with ContAuth,
UnscheduledCardOnFile, storedPaymentMethodId, PreAuth), linked to the Transaction so that
payment_capture_for_cdr captures the final cost or releases the hold.

Idempotent per transaction: the unique constraint one_preauth_per_session gives a session one
Payment, and the gateway call's idempotency key derives from that payment's reference, so the
start hook, its Celery retries and the CDR's safety net make one hold between them.
"""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction

from apps.charging.models import Transaction
from apps.charging.remote import remote_stop
from apps.payments import gateways
from apps.payments.models import Payment
from apps.payments.selectors import card_for_sessions, gateway_config
from apps.payments.services.sessions import _owed_without_hold, payment_link_by_id_tag, payment_preauthorize_session

log = logging.getLogger(__name__)
Status = Payment.Status


def payment_on_transaction_started(*, transaction_id: int, stop_on_decline: bool = True) -> Payment | None:
    """Called (through payments.preauthorize_transaction) after a session starts. Returns the
    session's payment, or None when no card pays it (a wallet, an invoice, or free).

    A pay-first hold (a QR guest) is linked instead. A declined hold is recorded for finance and,
    with `stop_on_decline`, the session is stopped remotely. Raises GatewayUnavailable when the
    gateway could not be reached: the task retries with the same idempotency key."""

    tx = Transaction.objects.select_related("id_token__owner", "charge_point").filter(pk=transaction_id).first()
    if tx is None:
        return None
    payment = Payment.objects.filter(kind=Payment.Kind.SESSION, transaction=tx).select_related("saved_card").first()
    if payment is None:
        payment = payment_link_by_id_tag(transaction=tx)
    if payment is not None and (payment.saved_card_id is None or payment.status != Status.PENDING or payment.reference):
        return payment  # already held (or linked, or decided): nothing more to do
    if payment is not None:
        card = payment.saved_card  # a call lost before the gateway answered: repeat it, same key
    else:
        owner = tx.id_token.owner if tx.id_token_id else None
        card = card_for_sessions(user=owner)
        if card is None:
            return None
    gateway = gateways.gateway_for(gateway_config())
    payment = payment_preauthorize_session(
        transaction=tx,
        user=card.user,
        payment_method=gateway.stored_payment_method(payment_method=card.payment_method_reference),
        customer=card.customer.reference,
        saved_card=card,
    )
    if payment.status == Status.FAILED:
        payment_declined(payment=payment, stop=stop_on_decline)
    return payment


def payment_declined(*, payment: Payment, stop: bool = True) -> None:
    """A card on file refused the hold: noted on the payment (listed under "needs attention");
    if the CDR is already there its cost becomes owed; and the session, still running, is
    stopped remotely (after commit, by a task: a stop waits for the charger's answer)."""

    log.warning("card-on-file hold %s declined: %s", payment.merchant_reference, payment.last_error)
    note = f"Pre-authorisation on the card on file declined: {payment.last_error or 'no reason given'}."
    Payment.objects.filter(pk=payment.pk, status=Status.FAILED).exclude(last_error__startswith="Pre-auth").update(
        last_error=note[:2000]
    )
    payment.refresh_from_db()
    if payment.amount_due is not None:
        _owed_without_hold(payment)
    elif stop and payment.transaction_id:
        from apps.payments.tasks import stop_unpaid_session

        pk = payment.pk
        db_transaction.on_commit(lambda: stop_unpaid_session.delay(pk), robust=True)


def payment_stop_unpaid_session(*, payment_id: int) -> str:
    """RemoteStop the session of a declined hold, if it still runs; the outcome is noted on the
    payment for finance. Version-aware through apps.charging.remote when present."""
    payment = Payment.objects.select_related("transaction__charge_point").filter(pk=payment_id).first()
    if payment is None or payment.transaction is None or payment.status != Status.FAILED:
        return "nothing to stop"
    tx = payment.transaction
    if tx.status != tx.Status.ACTIVE or not tx.transaction_id:
        return "already ended"
    try:
        # The protocol's own stop (1.6 RemoteStopTransaction, 2.x RequestStopTransaction).
        result = remote_stop(transaction=tx, source="payment", timeout=30)
        outcome = f"{getattr(result, 'status', '')} {getattr(result, 'response', '') or ''}".strip()
    except Exception as exc:  # an invalid command or charger gone: noted, never raised to Celery
        log.exception("could not stop unpaid session %s", tx.pk)
        outcome = f"error: {exc}"
    Payment.objects.filter(pk=payment.pk).update(
        last_error=f"{payment.last_error}\nSession stopped remotely: {outcome}.".strip()[:2000]
    )
    return outcome
