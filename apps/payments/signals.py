"""Domain events other apps react to (never model signals): sent after commit.

`hold_authorized(payment_id=...)`: a session payment's hold is now authorised (by webhook or a
synchronous confirmation). apps.qr listens to start a guest's session; a receiver must only
queue work (it runs inside the request or task that saw the authorisation)."""

from django.db import transaction
from django.dispatch import Signal

from apps.payments.models import Payment

hold_authorized = Signal()


def hold_authorized_after_commit(payment_id: int) -> None:
    transaction.on_commit(lambda: hold_authorized.send(sender=Payment, payment_id=payment_id), robust=True)
