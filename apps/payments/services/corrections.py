"""A corrected CDR on a card-paid session: settle the difference with the driver automatically.

What a card allows decides what happens (README, "Corrected CDRs"):
- not captured yet: the corrected amount is simply what is captured (or released when 0);
- captured, and the correction costs less: the difference is refunded at once, after first
  reducing what the driver still owed (a cost above the Stripe hold); nobody has to press a button;
- captured, and the correction costs more: a card cannot be charged again without its holder
  (no stored mandate for a guest), so the difference becomes a receivable
  (`Payment.amount_outstanding`) that finance sees under "needs attention";
- capture requested but not confirmed (Adyen): waits for the CAPTURE webhook, then the above.

Each correction is settled once: PaymentCorrection is unique per CDR and created under the
payment's row lock; the refund's idempotency key is derived from the CDR id.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction

from apps.payments.models import Payment, PaymentCorrection
from apps.payments.services.refunds import refund_execute
from apps.payments.services.sessions import _cdr_amount, payment_capture, payment_capture_for_cdr, payment_release

log = logging.getLogger(__name__)
Status = Payment.Status
Outcome = PaymentCorrection.Outcome
ZERO = Decimal(0)


def payment_settle_correction(*, cdr) -> PaymentCorrection | None:
    """Settle a correction CDR on the card payment of its session. None: no card paid it."""
    payment = Payment.objects.filter(kind=Payment.Kind.SESSION, transaction_id=cdr.transaction_id).first()
    if payment is None:
        return None
    if payment.amount_due is None:
        # The original record was never settled (its task is late): this one is the first.
        payment_capture_for_cdr(cdr=cdr)
        return None
    corrected = _cdr_amount(cdr, payment.currency)
    with db_transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        existing = PaymentCorrection.objects.filter(cdr=cdr).first()
        if existing is not None:
            correction, created = existing, False
        else:
            created = True
            previous = payment.amount_due
            if payment.status in (Status.AUTHORIZED, Status.CAPTURE_FAILED):
                outcome = Outcome.BEFORE_CAPTURE
            elif payment.status == Status.CAPTURE_PENDING:
                outcome = Outcome.WAITING_CAPTURE
            else:
                outcome = Outcome.NONE  # decided by _apply below
            correction = PaymentCorrection.objects.create(
                payment=payment, cdr=cdr, previous_amount=previous, corrected_amount=corrected, outcome=outcome
            )
            Payment.objects.filter(pk=payment.pk).update(amount_due=corrected, cdr=cdr)
            if outcome == Outcome.NONE:
                correction = _apply(payment, correction)
    if created and correction.outcome == Outcome.BEFORE_CAPTURE:
        payment.refresh_from_db()
        return _settle_before_capture(payment, correction)
    _refund(correction)
    return correction


def _settle_before_capture(payment: Payment, correction: PaymentCorrection) -> PaymentCorrection:
    if payment.amount_due == 0:
        payment_release(payment=payment)
    else:
        payment_capture(payment=payment)
    return correction


def payment_apply_waiting_corrections(*, payment: Payment) -> list[PaymentCorrection]:
    """After the CAPTURE webhook: settle the corrections that arrived while it was in flight."""
    done = []
    with db_transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Status.CAPTURED:
            return done
        for correction in PaymentCorrection.objects.filter(payment=locked, outcome=Outcome.WAITING_CAPTURE):
            done.append(_apply(locked, correction))
            locked.refresh_from_db()
    for correction in done:
        _refund(correction)
    return done


def _apply(payment: Payment, correction: PaymentCorrection) -> PaymentCorrection:
    """Decide refund / receivable on a captured (or released) payment; runs under its row lock."""
    diff = correction.corrected_amount - correction.previous_amount
    outstanding = payment.amount_outstanding
    fields: dict = {}
    if payment.status in (Status.CANCELLED, Status.FAILED):
        # Nothing was taken from the card and there is no hold left: everything is owed.
        diff = correction.corrected_amount - (payment.amount_captured - payment.amount_refunded) - outstanding
    if diff == 0:
        fields.update(outcome=Outcome.NONE)
    elif diff > 0:
        outstanding += diff
        fields.update(outcome=Outcome.RECEIVABLE, receivable_amount=diff, note="The card cannot be charged again.")
    else:
        back = -diff
        reduced = min(back, outstanding)
        outstanding -= reduced
        refund = min(back - reduced, payment.refundable)
        note = f"{reduced} {payment.currency} less owed. " if reduced else ""
        if back - reduced > refund:
            note += f"{back - reduced - refund} {payment.currency} not refundable (already refunded)."
        fields.update(
            outcome=Outcome.REFUND if refund > 0 else Outcome.NONE,
            refund_amount=refund,
            receivable_amount=-reduced,
            note=note.strip(),
        )
    PaymentCorrection.objects.filter(pk=correction.pk).update(**fields)
    payment_fields = {"amount_outstanding": outstanding}
    if outstanding > 0:
        payment_fields["last_error"] = f"{outstanding} {payment.currency} owed after a corrected CDR."
    elif payment.amount_outstanding > 0:
        payment_fields["last_error"] = ""
    Payment.objects.filter(pk=payment.pk).update(**payment_fields)
    correction.refresh_from_db()
    return correction


def _refund(correction: PaymentCorrection) -> None:
    """Refund the difference outside any transaction (a gateway call); idempotent by CDR id."""
    if correction.outcome != Outcome.REFUND or correction.refund_amount <= 0 or correction.refund_id:
        return
    try:
        op = refund_execute(
            payment=correction.payment,
            user=None,
            reason=f"Corrected CDR {correction.cdr.cdr_id}: {correction.cdr.correction_reason}"[:200],
            idempotency_key=f"cdr-{correction.cdr.cdr_id}",
            amount=correction.refund_amount,
        )
    except ValidationError as exc:  # a staff refund took the rest meanwhile
        log.warning("refund for corrected CDR %s refused: %s", correction.cdr.cdr_id, exc)
        PaymentCorrection.objects.filter(pk=correction.pk).update(note=" ".join(exc.messages)[:255])
        return
    PaymentCorrection.objects.filter(pk=correction.pk, refund__isnull=True).update(refund=op)
    correction.refresh_from_db()
