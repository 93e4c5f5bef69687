"""Reads for payments: the organisation's gateway, payment lists and the finance reconciliation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from apps.payments.models import GatewayConfig, Payment, PaymentOperation

ZERO = Decimal(0)


def gateway_config() -> GatewayConfig | None:
    return GatewayConfig.objects.order_by("pk").first()


def payment_list(*, status: str = "", kind: str = "", search: str = "") -> QuerySet[Payment]:
    qs = Payment.objects.select_related("user", "cdr", "transaction")
    if status == "attention":  # what finance must look at: failed captures and shortfalls
        qs = qs.filter(Q(status=Payment.Status.CAPTURE_FAILED) | ~Q(last_error="") | Q(amount_outstanding__gt=0))
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(
            Q(merchant_reference__icontains=search) | Q(reference__icontains=search) | Q(user__email__icontains=search)
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
