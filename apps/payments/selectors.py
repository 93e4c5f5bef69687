"""Reads for payments: the organisation's gateway, payment lists and the finance reconciliation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from apps.payments.models import GatewayConfig, Payment, PaymentOperation, SavedCard, SessionPaymentChoice
from apps.wallets.selectors import paying_account

ZERO = Decimal(0)


def gateway_config() -> GatewayConfig | None:
    return GatewayConfig.objects.order_by("pk").first()


def gateway_account(config: GatewayConfig) -> str:
    """Which account a gateway customer or stored card belongs to: the organisation's own
    credentials or the platform's (a card stored in one does not exist in the other)."""
    return "platform" if config.use_platform else "own"


def cards_for_user(*, user) -> QuerySet[SavedCard]:
    """The driver's cards to show: saved ones, and attempts not finished or refused."""
    return (
        SavedCard.objects.filter(user=user)
        .exclude(status=SavedCard.Status.REMOVED)
        .select_related("customer")
        .order_by("-is_default", "-created_at", "-id")
    )


def card_usable(*, card: SavedCard, config: GatewayConfig | None) -> bool:
    """Saved, not expired, and stored in the gateway account the organisation uses now."""
    return (
        config is not None
        and card.status == SavedCard.Status.ACTIVE
        and card.provider == config.provider
        and card.customer.account == gateway_account(config)
        and not card.expired()
    )


def card_for_sessions(*, user) -> SavedCard | None:
    """The card on file that pays this driver's sessions, or None (a wallet pays, or nothing).

    The rule (README "Which pays a driver's session"): a usable card on file pays when the
    driver chose "pay sessions by card", or when no wallet pays for them (no own wallet in the
    organisation's currency and no paying group wallet). The default card first, else the
    newest usable one. It does not depend on balances, so the answer at Authorize, at the
    session start and at its CDR is the same unless the driver changes their cards or choice."""
    if user is None or not getattr(user, "pk", None):
        return None
    config = gateway_config()
    if config is None or config.provider not in ("stripe", "adyen"):
        return None
    cards = SavedCard.objects.filter(user=user, status=SavedCard.Status.ACTIVE, provider=config.provider)
    ordered = cards.select_related("customer").order_by("-is_default", "-created_at", "-id")
    card = next((c for c in ordered if card_usable(card=c, config=config)), None)
    if card is None:
        return None
    if SessionPaymentChoice.objects.filter(user=user, by_card=True).exists():
        return card

    account, _ = paying_account(user=user)
    return card if account is None else None


def driver_session_payments(*, user) -> QuerySet[Payment]:
    """A driver's card payments for sessions (holds, captures, releases), newest first."""
    return (
        Payment.objects.filter(user=user, kind=Payment.Kind.SESSION)
        .select_related("transaction__charge_point", "saved_card", "cdr")
        .prefetch_related("operations")
        .order_by("-created_at", "-id")
    )


def payment_list(*, status: str = "", kind: str = "", search: str = "") -> QuerySet[Payment]:
    qs = Payment.objects.select_related("user", "cdr", "transaction__charge_point", "saved_card")
    if status == "attention":  # what finance must look at: failed captures and shortfalls
        qs = qs.filter(Q(status=Payment.Status.CAPTURE_FAILED) | ~Q(last_error="") | Q(amount_outstanding__gt=0))
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(
            Q(merchant_reference__icontains=search)
            | Q(reference__icontains=search)
            | Q(user__email__icontains=search)
            | Q(transaction__transaction_id=search)
        )
    return qs.order_by("-created_at", "-id")


def reconciliation(*, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
    """Per day (UTC), currency and operation kind: how many calls, by outcome, and the amounts;
    plus the fees the gateway reported for payments captured that day."""
    ops = PaymentOperation.objects.all()
    if date_from:
        ops = ops.filter(created_at__date__gte=date_from)
    if date_to:
        ops = ops.filter(created_at__date__lte=date_to)
    rows = (
        ops.annotate(day=TruncDate("created_at"))
        .values("day", "currency", "kind")
        .annotate(
            count=Count("id"),
            succeeded=Count("id", filter=Q(status=PaymentOperation.Status.SUCCEEDED)),
            pending=Count("id", filter=Q(status=PaymentOperation.Status.PENDING)),
            failed=Count("id", filter=Q(status=PaymentOperation.Status.FAILED)),
            amount=Sum("amount", filter=~Q(status=PaymentOperation.Status.FAILED)),
            fees=Sum("fee"),
        )
        .order_by("-day", "currency", "kind")
    )
    return [{**r, "amount": r["amount"] or ZERO, "fees": r["fees"] or ZERO} for r in rows]
