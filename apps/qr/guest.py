"""Guests paying by card at the QR page: hold first, RemoteStart only once the hold is authorised.

1. `guest_session_create`: the guest gives an e-mail (for the receipt); a hold of
   GatewayConfig.preauth_amount is started with the gateway (apps.payments.payment_hold_start)
   and confirmed in the browser (Stripe Payment Element / Adyen Drop-in).
2. The hold is authorised (webhook, or the synchronous confirmation the page asks for): the
   `hold_authorized` signal moves the guest to AUTHORIZED once (conditional update) and queues
   `qr.guest_start`, which claims AUTHORIZED -> STARTING (once, whoever asks twice) and sends
   RemoteStartTransaction with the guest's own id token through the command bus, like the
   signed-in drivers' start (apps.qr.services.qr_start).
3. Refused, offline, timed out, or no car within START_WINDOW: the hold is released (cancel).
4. The charger's StartTransaction carries the guest's id token: the Transaction is linked to
   the payment by it (apps.payments.services.payment_link_by_id_tag; also done when the CDR is
   settled), so the CDR captures the final cost, or releases the hold when nothing was delivered.
5. The guest follows (and can stop) the session on a signed link, and gets a receipt.

Idempotent throughout: one GuestSession per start form (unique form key), one payment per guest
(merchant reference derived from it, gateway idempotency key from that), one start per guest
(conditional status update), one transaction per payment (unique constraint)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from apps.billing.selectors import cdr_latest, cdr_original
from apps.charging.models import IdToken, Transaction
from apps.charging.remote import remote_start as start
from apps.charging.remote import remote_stop as stop
from apps.charging.services import id_token_create, id_token_update
from apps.core.money import quantize
from apps.csms.commands import InvalidCommand
from apps.payments import gateways
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment
from apps.payments.selectors import gateway_config
from apps.payments.services import payment_hold_start, payment_link_by_id_tag, payment_release
from apps.qr.models import ConnectorCode, GuestSession, QrEvent
from apps.qr.selectors import connector_state
from apps.tenants.selectors import current_organization

log = logging.getLogger(__name__)
Status = GuestSession.Status
SALT = "evzone.qr.guest"
# After RemoteStart the driver must plug in; chargers give up after their ConnectionTimeOut
# (typically 30-180 s). After this long without a session the hold is released.
START_WINDOW = dt.timedelta(minutes=5)
TOKEN_VALIDITY = dt.timedelta(days=2)
START_TIMEOUT = 20  # as apps.qr.services.START_TIMEOUT (signed-in drivers)
# As apps.qr.services._ALPHABET: no 0/O/1/I/L, in case a token is ever read out or typed.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def remote_start(**kwargs):
    """apps.charging.remote (1.6 RemoteStart / 2.x RequestStart), imported when used: the
    command bus it calls pulls in every OCPP handler."""

    return start(**kwargs)


def remote_stop(**kwargs):
    return stop(**kwargs)


# ------------------------------------------------------------------ the guest's link


def guest_link(guest: GuestSession) -> str:
    """/c/guest/<signed token>/: signed with SECRET_KEY (cannot be forged) and carrying the row's
    random nonce (cannot be guessed from the sequential id)."""
    token = signing.dumps([guest.pk, guest.nonce], salt=SALT)
    return reverse("qr:guest", args=[token])


def guest_from_token(token: str) -> GuestSession | None:
    try:
        pk, nonce = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    guest = GuestSession.objects.select_related("code__charge_point", "payment", "transaction").filter(pk=pk).first()
    if guest is None or not constant_time_compare(guest.nonce, str(nonce)):
        return None
    return guest


def _absolute(path: str) -> str:
    org = current_organization()
    domain = org.primary_domain.domain if org is not None and org.primary_domain else settings.BASE_DOMAIN
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{domain}{port}{path}"


def guest_card_entry() -> dict | None:
    """The browser card form's settings, or None when this organisation cannot take cards."""
    return gateways.client_settings(gateway_config())


# ------------------------------------------------------------------ create and pay


def _startable(code: ConnectorCode) -> str:
    """Why this connector cannot start now ("" when it can): checked before any hold is made."""
    state = connector_state(code=code)
    if not state["online"]:
        return "The charger is offline right now."
    if state["transaction"] is not None:
        return "This connector is already charging."
    if state["status"] in ("Faulted", "Unavailable"):
        return "This connector is out of order."
    return ""


def guest_session_create(*, code: ConnectorCode, email: str, form_key: str, return_url: str = "") -> GuestSession:
    """The guest's session and its hold (to confirm in the browser). The same form key (a double
    click, a resubmitted form) returns the same session and the same hold."""
    existing = GuestSession.objects.filter(form_key=form_key).select_related("payment").first()
    if existing is not None:
        return existing
    email = (email or "").strip().lower()
    validate_email(email)
    if guest_card_entry() is None:
        raise ValidationError("Card payment is not available at this charger.")
    if reason := _startable(code):
        QrEvent.objects.create(code=code, kind=QrEvent.Kind.START_REFUSED, detail=f"guest: {reason}"[:200])
        raise ValidationError(reason)
    try:
        with db_transaction.atomic():
            guest = GuestSession.objects.create(
                code=code,
                email=email,
                form_key=form_key,
                nonce=secrets.token_urlsafe(16),
                # 'G' + 15 unambiguous characters: fits 1.6's CiString20, ~74 bits of chance.
                id_tag="G" + "".join(secrets.choice(_ALPHABET) for _ in range(15)),
            )
    except IntegrityError:
        return GuestSession.objects.get(form_key=form_key)
    return guest_session_pay(guest=guest, return_url=return_url)


def guest_session_pay(*, guest: GuestSession, return_url: str = "") -> GuestSession:
    """Start (or resume) the guest's hold; `guest.payment` carries the browser's client data."""
    payment = payment_hold_start(
        merchant_reference_seed=str(guest.pk),
        id_tag=guest.id_tag,
        email=guest.email,
        return_url=return_url or _absolute(guest_link(guest)),
    )
    GuestSession.objects.filter(pk=guest.pk, payment__isnull=True).update(payment=payment)
    if payment.status == Payment.Status.FAILED:
        GuestSession.objects.filter(pk=guest.pk, status=Status.AWAITING_PAYMENT).update(
            status=Status.CANCELLED, message=(payment.last_error or "The card was refused.")[:200]
        )
    client = payment
    guest.refresh_from_db()
    guest.payment = client  # keeps client_secret / client_action for this response only
    return guest


# ------------------------------------------------------------------ hold authorised -> start


def on_hold_authorized(sender, payment_id: int, **kwargs) -> None:
    """Receiver of apps.payments.signals.hold_authorized (after commit). Only queues the start."""
    guest = GuestSession.objects.filter(payment_id=payment_id).first()
    if guest is None:
        return
    if GuestSession.objects.filter(pk=guest.pk, status=Status.AWAITING_PAYMENT).update(status=Status.AUTHORIZED):
        from apps.qr.tasks import guest_start

        guest_start.delay(guest.pk)


def _guest_token(guest: GuestSession) -> IdToken:
    token = IdToken.objects.filter(id_token__iexact=guest.id_tag).first()
    if token is None:
        token = id_token_create(
            id_token=guest.id_tag,
            type=IdToken.Type.CENTRAL,
            label=f"Guest {guest.email}"[:100],
            expires_at=timezone.now() + TOKEN_VALIDITY,
        )
    return token


def guest_session_remote_start(*, guest: GuestSession) -> GuestSession:
    """RemoteStart for an authorised guest, once: whoever claims AUTHORIZED -> STARTING sends it."""
    if not GuestSession.objects.filter(pk=guest.pk, status=Status.AUTHORIZED).update(status=Status.STARTING):
        guest.refresh_from_db()
        return guest
    guest.refresh_from_db()
    payment = guest.payment
    if payment is None or payment.status != Payment.Status.AUTHORIZED:
        return _start_failed(guest, "The card payment is not authorised.", "not authorised")
    cp = guest.code.charge_point
    if Transaction.objects.filter(
        charge_point=cp, evse_id=guest.code.evse_id, status=Transaction.Status.ACTIVE
    ).exists():
        return _start_failed(guest, "Someone else started charging on this connector.", "connector busy")
    token = _guest_token(guest)
    try:
        result = remote_start(
            charge_point=cp,
            id_token=token,
            evse_id=guest.code.evse_id,
            connector_id=guest.code.connector_id,
            timeout=START_TIMEOUT,
            source="qr-guest",
        )
    except _invalid_command() as exc:
        return _start_failed(guest, "This charger cannot be started remotely.", f"invalid: {exc}")
    answer = (result.response or {}).get("status")
    if result.status == "ok" and answer == "Accepted":
        GuestSession.objects.filter(pk=guest.pk, status=Status.STARTING).update(
            status=Status.STARTED, started_at=timezone.now(), message="Plug in your car if you have not yet."
        )
        QrEvent.objects.create(code=guest.code, kind=QrEvent.Kind.START, detail="guest")
        link = _absolute(guest_link(guest))
        _mail(guest, "Your charging session", f"Follow and stop your charging session here:\n{link}\n")
        guest.refresh_from_db()
        return guest
    reason = {
        "offline": "The charger is offline right now.",
        "timeout": "The charger did not answer in time.",
    }.get(result.status, "The charger refused to start.")
    return _start_failed(guest, reason, f"{result.status} {answer or ''}")


def _invalid_command():
    return InvalidCommand


def _start_failed(guest: GuestSession, message: str, detail: str) -> GuestSession:
    GuestSession.objects.filter(pk=guest.pk).update(
        status=Status.START_FAILED, message=f"{message} Your card hold is released."[:200]
    )
    QrEvent.objects.create(code=guest.code, kind=QrEvent.Kind.START_REFUSED, detail=f"guest: {detail}"[:200])
    _release(guest)
    guest.refresh_from_db()
    return guest


def _release(guest: GuestSession) -> None:
    """Cancel the hold and retire the guest's token. A gateway that cannot be reached now is
    retried by the sweep (qr.guest_sweep), which finds the payment still authorised."""
    token = IdToken.objects.filter(id_token__iexact=guest.id_tag, status=IdToken.Status.ACCEPTED).first()
    if token is not None:
        id_token_update(token=token, status=IdToken.Status.BLOCKED)
    payment = Payment.objects.filter(pk=guest.payment_id).first()
    if payment is None or payment.transaction_id:  # a session exists: its CDR settles the hold
        return
    try:
        payment_release(payment=payment)
    except (GatewayUnavailable, LookupError) as exc:
        log.warning("release of guest hold %s failed: %s", payment.merchant_reference, exc)


# ------------------------------------------------------------------ following the session


def guest_session_refresh(*, guest: GuestSession) -> GuestSession:
    """Move the guest's session along from what the charger and the gateway did: link the
    Transaction, notice its end, release a hold nobody used, send the receipt once."""
    now = timezone.now()
    if guest.status == Status.AWAITING_PAYMENT and guest.payment and guest.payment.status == Payment.Status.FAILED:
        GuestSession.objects.filter(pk=guest.pk, status=Status.AWAITING_PAYMENT).update(
            status=Status.CANCELLED, message="The card payment was not authorised."
        )
    elif guest.status == Status.STARTED and guest.transaction_id is None:
        tx = (
            Transaction.objects.filter(
                charge_point=guest.code.charge_point, id_tag__iexact=guest.id_tag, started_at__gte=guest.created_at
            )
            .order_by("-started_at")
            .first()
        )
        if tx is not None:
            payment_link_by_id_tag(transaction=tx)
            GuestSession.objects.filter(pk=guest.pk, transaction__isnull=True).update(
                transaction=tx, status=Status.CHARGING, message=""
            )
        elif guest.started_at and guest.started_at < now - START_WINDOW:
            if GuestSession.objects.filter(pk=guest.pk, status=Status.STARTED, transaction__isnull=True).update(
                status=Status.CANCELLED, message="No car was connected in time. Your card hold is released."
            ):
                _release(guest)
    elif guest.status == Status.START_FAILED and guest.payment and guest.payment.status == Payment.Status.AUTHORIZED:
        _release(guest)  # an earlier release did not reach the gateway
    guest.refresh_from_db()
    if guest.status == Status.CHARGING and guest.transaction.status == Transaction.Status.COMPLETED:
        GuestSession.objects.filter(pk=guest.pk, status=Status.CHARGING).update(status=Status.COMPLETED, message="")
        token = IdToken.objects.filter(id_token__iexact=guest.id_tag, status=IdToken.Status.ACCEPTED).first()
        if token is not None:  # the guest's token is good for this one session only
            id_token_update(token=token, status=IdToken.Status.BLOCKED)
        guest.refresh_from_db()
    if guest.status == Status.COMPLETED and guest.receipt_sent_at is None:
        _send_receipt(guest)
    return guest


def guest_receipt(guest: GuestSession) -> dict | None:
    """The settled session: what was delivered and what the card paid (or None until the CDR)."""
    if guest.transaction_id is None:
        return None

    cdr = cdr_original(transaction_id=guest.transaction_id)
    if cdr is None:
        return None
    cdr = cdr_latest(cdr=cdr)  # a corrected record replaces the original on the receipt
    payment = Payment.objects.filter(pk=guest.payment_id).first()
    return {"cdr": cdr, "payment": payment}


def _send_receipt(guest: GuestSession) -> None:
    receipt = guest_receipt(guest)
    if receipt is None or receipt["payment"] is None:
        return
    payment = receipt["payment"]
    if payment.status not in (Payment.Status.CAPTURED, Payment.Status.CAPTURE_PENDING, Payment.Status.CANCELLED):
        return  # not settled yet: the next refresh or the sweep sends it
    # Claimed first: a page poll and the sweep racing send one receipt.
    claimed = GuestSession.objects.filter(pk=guest.pk, receipt_sent_at__isnull=True)
    if not claimed.update(receipt_sent_at=timezone.now()):
        return
    cdr = receipt["cdr"]
    paid = quantize(payment.amount_captured - payment.amount_refunded, payment.currency)
    held = quantize(payment.amount_authorized, payment.currency)
    body = (
        f"Charger: {cdr.charge_point_identity}, connector {cdr.connector_id}\n"
        f"Energy: {cdr.total_energy.quantize(Decimal('0.001'))} kWh\n"
        f"Total: {quantize(cdr.total_cost_incl_vat, cdr.currency)} {cdr.currency} incl. VAT\n"
        f"Card: {paid} {payment.currency} charged; the rest of the {held} {payment.currency} hold is released.\n"
        f"Reference: {payment.merchant_reference}\n\n{_absolute(guest_link(guest))}\n"
    )
    _mail(guest, "Your charging receipt", body)


def _mail(guest: GuestSession, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [guest.email])
    except OSError as exc:  # the session goes on; the link is on the page anyway
        log.warning("mail to guest %s failed: %s", guest.pk, exc)


def guest_session_stop(*, guest: GuestSession) -> tuple[bool, str]:
    tx = guest.transaction
    if tx is None or tx.status != Transaction.Status.ACTIVE or not tx.transaction_id:
        return False, "There is no session running."
    result = remote_stop(transaction=tx, timeout=START_TIMEOUT, source="qr-guest")
    QrEvent.objects.create(code=guest.code, kind=QrEvent.Kind.STOP, detail=f"guest {result.status}")
    if result.status == "ok" and (result.response or {}).get("status") == "Accepted":
        return True, "Stopping — you can unplug when the connector unlocks."
    return False, "The charger did not accept the stop. Try again or use the charger's own button."
