"""Cards on file: a driver saves a card in the gateway's own form (Stripe SetupIntent with
usage=off_session; Adyen a zero-value authorisation with storePaymentMethod), the gateway tells
us the stored payment method (Stripe synchronously or by setup_intent.succeeded, Adyen by
webhook), and sessions are later pre-authorised on it off-session (services.card_on_file).

We keep only the gateway's references and brand / last 4 / expiry for display. Gateway calls
are made outside database transactions; every state change is a conditional update, so a
webhook racing the browser's confirmation (or a repeated webhook) changes the card once.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from apps.payments import gateways
from apps.payments.gateways.base import CardDetails, GatewayEvent
from apps.payments.models import GatewayCustomer, SavedCard, SessionPaymentChoice
from apps.payments.platform import reference_prefix
from apps.payments.selectors import gateway_account, gateway_config
from apps.payments.services.sessions import REFERENCE_PLACEHOLDER
from apps.wallets.selectors import organization_currency

CardStatus = SavedCard.Status
DISPLAY_FIELDS = ("brand", "last4", "exp_month", "exp_year")


def driver_reference(user) -> str:
    """Our stable name for a driver at the gateway (Adyen shopperReference, Stripe metadata). The
    organisation prefix keeps drivers of organisations sharing the platform account apart."""
    return f"{reference_prefix()}driver-{user.pk}"


def card_customer_get_or_create(*, user, config=None) -> GatewayCustomer:
    config = config or gateway_config()
    account = gateway_account(config)
    found = GatewayCustomer.objects.filter(user=user, provider=config.provider, account=account).first()
    if found is not None:
        return found
    reference = driver_reference(user)
    # The key is per driver and account: two pages opened at once get the same Stripe Customer
    # (within Stripe's 24 hours; past that the unique constraint keeps one and the other stays unused).
    result = gateways.gateway_for(config).customer_create(
        driver_reference=reference, email=user.email, idempotency_key=f"{reference}:customer:{account}"
    )
    if not result.ok or not result.reference:
        raise ValidationError(result.error or "The payment gateway did not create a customer.")
    try:
        with db_transaction.atomic():
            return GatewayCustomer.objects.create(
                user=user, provider=config.provider, account=account, reference=result.reference
            )
    except IntegrityError:
        return GatewayCustomer.objects.get(user=user, provider=config.provider, account=account)


def card_setup_start(*, user, return_url: str) -> SavedCard:
    """Start saving a card: returns a pending SavedCard carrying (not stored) what the browser's
    SDK needs: `client_secret` (Stripe SetupIntent) or `client_action["session"]` (Adyen)."""

    config = gateway_config()
    gateway = gateways.gateway_for(config)
    customer = card_customer_get_or_create(user=user, config=config)
    card = SavedCard.objects.create(
        user=user,
        customer=customer,
        provider=config.provider,
        setup_reference=f"{reference_prefix()}card-{uuid.uuid4().hex}",
    )
    return_url = return_url.replace(REFERENCE_PLACEHOLDER, card.setup_reference)
    result = _setup_call(gateway, card, organization_currency(), return_url)
    SavedCard.objects.filter(pk=card.pk, status=CardStatus.PENDING).update(
        setup_gateway_reference=result.reference,
        status=CardStatus.PENDING if result.ok else CardStatus.FAILED,
        last_error=result.error[:2000],
    )
    card.refresh_from_db()
    card.client_secret, card.client_action = result.client_secret, result.action
    return card


def _setup_call(gateway, card: SavedCard, currency: str, return_url: str):
    return gateway.card_setup(
        customer=card.customer.reference,
        setup_reference=card.setup_reference,
        currency=currency,
        idempotency_key=f"{card.setup_reference}:setup",
        return_url=return_url,
    )


def card_setup_resume(*, card: SavedCard, return_url: str) -> SavedCard:
    """What the browser needs to show the form again (reload, new browser session): the start
    call repeated with its idempotency key, so the gateway answers what it answered first."""

    card.client_secret, card.client_action = "", None
    if card.status != CardStatus.PENDING:
        return card
    result = _setup_call(gateways.gateway_for(gateway_config()), card, organization_currency(), return_url)
    card.client_secret, card.client_action = result.client_secret, result.action
    return card


def card_setup_confirm(*, card: SavedCard) -> SavedCard:
    """Synchronous confirmation when the browser says the card step is done (Stripe; Adyen only
    tells by webhook). Applied like the webhook: conditional, forward only."""
    if card.status != CardStatus.PENDING or not card.setup_gateway_reference:
        return card
    status, details = gateways.gateway_for(gateway_config()).card_setup_retrieve(reference=card.setup_gateway_reference)
    if details is not None:
        _card_activate(card, asdict(details))
    card.refresh_from_db()
    return card


def card_event_apply(*, card: SavedCard, event: GatewayEvent) -> str:
    """A webhook about a card being saved (called by services.events under the event's lock)."""
    data = event.card or {}
    if event.kind in ("card_failed", "failed"):
        # The driver may try again in the same form (Stripe SetupIntent, Adyen session): pending.
        error = data.get("error") or (event.payload or {}).get("reason", "") or "The card was not saved."
        SavedCard.objects.filter(pk=card.pk, status=CardStatus.PENDING).update(last_error=str(error)[:2000])
        return "card not saved"
    if event.kind not in ("card_saved", "authorized"):
        return f"ignored: {event.provider_type}"
    if data.get("customer") and data["customer"] != card.customer.reference:
        return "ignored: card of another customer"
    if not data.get("payment_method"):
        # Adyen: the authorisation came without tokenisation data; RECURRING_CONTRACT follows.
        SavedCard.objects.filter(pk=card.pk, setup_gateway_reference="").update(
            setup_gateway_reference=event.payment_reference
        )
        return "waiting for the stored card"
    result = _card_activate(card, data, gateway_reference=event.payment_reference)
    if result == "card saved" and not data.get("last4") and card.provider == "stripe":
        from apps.payments.tasks import card_details_fetch

        pk = card.pk
        # setup_intent events name the PaymentMethod without its card: ask for brand and last 4.
        db_transaction.on_commit(lambda: card_details_fetch.delay(pk), robust=True)
    return result


def _card_activate(card: SavedCard, data: dict, gateway_reference: str = "") -> str:
    method = data["payment_method"]
    display = {k: data[k] for k in DISPLAY_FIELDS if data.get(k) not in (None, "")}
    with db_transaction.atomic():
        # The driver's cards locked together: activation, default choice and removal serialise.
        cards = list(SavedCard.objects.select_for_update().filter(user_id=card.user_id).order_by("pk"))
        current = next(c for c in cards if c.pk == card.pk)
        if current.status != CardStatus.PENDING:
            if current.status == CardStatus.ACTIVE and display:  # details arriving late (a second event)
                SavedCard.objects.filter(pk=card.pk).update(**display)
            return f"ignored: already {current.status}"
        twin = next((c for c in cards if c.status == CardStatus.ACTIVE and c.payment_method_reference == method), None)
        if twin is not None:
            # Adyen stores the same card once per shopper and answers its existing id: keep one row.
            SavedCard.objects.filter(pk=card.pk).update(
                status=CardStatus.REMOVED, removed_at=timezone.now(), last_error="This card was already saved."
            )
            return "card already saved"
        has_default = any(c.is_default and c.status == CardStatus.ACTIVE for c in cards)
        SavedCard.objects.filter(pk=card.pk, status=CardStatus.PENDING).update(
            status=CardStatus.ACTIVE,
            payment_method_reference=method,
            setup_gateway_reference=current.setup_gateway_reference or gateway_reference,
            is_default=not has_default,
            last_error="",
            **display,
        )
    return "card saved"


def card_details_refresh(*, card: SavedCard) -> SavedCard:
    details: CardDetails | None = gateways.gateway_for(gateway_config()).card_details(
        payment_method=card.payment_method_reference
    )
    if details is not None:
        fields = {k: v for k, v in asdict(details).items() if k in DISPLAY_FIELDS and v not in (None, "")}
        if fields:
            SavedCard.objects.filter(pk=card.pk, payment_method_reference=details.payment_method).update(**fields)
    card.refresh_from_db()
    return card


@db_transaction.atomic
def card_set_default(*, user, card: SavedCard) -> SavedCard:
    cards = SavedCard.objects.select_for_update().filter(user=user).order_by("pk")
    list(cards)  # locked: two concurrent choices cannot leave two defaults (nor none)
    if card.user_id != user.pk:
        raise PermissionDenied("This is not your card.")
    if not cards.filter(pk=card.pk, status=CardStatus.ACTIVE).exists():
        raise ValidationError("Only a saved card can be the default.")
    cards.filter(is_default=True).exclude(pk=card.pk).update(is_default=False)
    cards.filter(pk=card.pk).update(is_default=True)
    card.refresh_from_db()
    return card


def card_remove(*, user, card: SavedCard) -> SavedCard:
    """Detach the card at the gateway, then forget it here (a hold already made on it stays
    capturable: detaching does not touch authorised payments). Removing twice is harmless: the
    gateway's "not found" counts as removed."""
    if card.user_id != user.pk:
        raise PermissionDenied("This is not your card.")
    if card.status == CardStatus.REMOVED:
        return card
    config = gateway_config()
    same_account = (
        config is not None and config.provider == card.provider and gateway_account(config) == card.customer.account
    )
    note = ""
    if card.status == CardStatus.ACTIVE and card.payment_method_reference:
        if same_account:
            result = gateways.gateway_for(config).card_remove(
                customer=card.customer.reference,
                payment_method=card.payment_method_reference,
                idempotency_key=f"{card.setup_reference}:remove",
            )
            if not result.ok:
                raise ValidationError(result.error or "The payment gateway did not remove the card.")
        else:
            # Saved with another gateway account than the one in use: no credentials to detach it.
            note = "Removed here only: it was saved with another payment gateway account."
    with db_transaction.atomic():
        cards = SavedCard.objects.select_for_update().filter(user=user).order_by("pk")
        list(cards)
        was_default = cards.filter(pk=card.pk, is_default=True).exists()
        cards.filter(pk=card.pk).exclude(status=CardStatus.REMOVED).update(
            status=CardStatus.REMOVED, is_default=False, removed_at=timezone.now(), last_error=note
        )
        if was_default:
            successor = cards.filter(status=CardStatus.ACTIVE).order_by("-created_at", "-id").first()
            if successor is not None:
                cards.filter(pk=successor.pk).update(is_default=True)
    card.refresh_from_db()
    return card


def card_preference_set(*, user, by_card: bool) -> SessionPaymentChoice:
    choice, _ = SessionPaymentChoice.objects.update_or_create(user=user, defaults={"by_card": by_card})
    return choice
