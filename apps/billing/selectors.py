"""Reads for billing: the organisation, CDR and invoice lists with the finance filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.billing.models import BillingSettings, ChargeDetailRecord, Invoice
from apps.billing.pricing import ENERGY, _readings, session_for_transaction
from apps.charging.models import Transaction
from apps.tariffs.engine import PricingError, price_session
from apps.tariffs.ocpi import tariff_to_domain
from apps.tariffs.selectors import tariff_for_charging
from apps.tenants.models import Organization


def current_organization() -> Organization:
    """The organisation whose schema is active, read fresh (legal details may have just changed)."""
    return Organization.objects.get(schema_name=connection.schema_name)


def billing_settings() -> BillingSettings:
    """The organisation's billing rules (defaults until someone saves them)."""
    return BillingSettings.objects.order_by("pk").first() or BillingSettings()


def free_session_reason(*, energy_kwh: Decimal, duration: dt.timedelta, rules: BillingSettings) -> str | None:
    """Why a session is below the minimum billable session (and so free), or None."""
    if energy_kwh <= rules.min_billable_energy_kwh:
        if rules.min_billable_energy_kwh:
            return f"it delivered {energy_kwh.normalize()} kWh, at most {rules.min_billable_energy_kwh.normalize()} kWh"
        return "it delivered no energy"
    if rules.min_billable_minutes and duration < dt.timedelta(minutes=rules.min_billable_minutes):
        return f"it lasted less than {rules.min_billable_minutes} minutes"
    return None


def cdr_original(*, transaction_id: int) -> ChargeDetailRecord | None:
    return ChargeDetailRecord.objects.filter(transaction_id=transaction_id, replaces__isnull=True).first()


def transactions_without_cdr(
    *, stopped_from: dt.datetime | None = None, stopped_before: dt.datetime | None = None
) -> QuerySet[Transaction]:
    """Completed transactions that have no charge detail record (not even a correction), oldest
    stop first; optionally only those stopped in [stopped_from, stopped_before)."""
    qs = Transaction.objects.filter(status=Transaction.Status.COMPLETED).exclude(
        Exists(ChargeDetailRecord.objects.filter(transaction=OuterRef("pk")))
    )
    if stopped_from is not None:
        qs = qs.filter(stopped_at__gte=stopped_from)
    if stopped_before is not None:
        qs = qs.filter(stopped_at__lt=stopped_before)
    return qs.order_by("stopped_at", "pk")


def cdr_latest(*, cdr: ChargeDetailRecord) -> ChargeDetailRecord:
    """The record currently in force for this CDR's transaction (the end of its correction chain)."""
    while True:
        nxt = ChargeDetailRecord.objects.filter(replaces=cdr).first()
        if nxt is None:
            return cdr
        cdr = nxt


def _date_range(qs: QuerySet, field: str, date_from: dt.date | None, date_to: dt.date | None) -> QuerySet:
    if date_from:
        qs = qs.filter(**{f"{field}__date__gte": date_from})
    if date_to:
        qs = qs.filter(**{f"{field}__date__lte": date_to})
    return qs


def cdr_list(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str = "",
    driver: str = "",
    charger: str = "",
) -> QuerySet[ChargeDetailRecord]:
    """status: "current" (in force), "corrected" (replaced), "correction", "no_tariff"."""
    qs = ChargeDetailRecord.objects.select_related("driver", "replaces", "location").annotate(
        is_replaced=Exists(ChargeDetailRecord.objects.filter(replaces=OuterRef("pk")))
    )
    qs = _date_range(qs, "start_date_time", date_from, date_to)
    if status == "current":
        qs = qs.filter(is_replaced=False)
    elif status == "corrected":
        qs = qs.filter(is_replaced=True)
    elif status == "correction":
        qs = qs.filter(replaces__isnull=False)
    elif status == "no_tariff":
        qs = qs.filter(no_tariff=True)
    if driver:
        qs = qs.filter(
            Q(driver__email__icontains=driver) | Q(driver__full_name__icontains=driver) | Q(token_uid__iexact=driver)
        )
    if charger:
        qs = qs.filter(charge_point_identity__icontains=charger)
    return qs.order_by("-start_date_time", "-id")


def _credited():
    return Coalesce(
        Subquery(
            Invoice.objects.filter(credited_invoice=OuterRef("pk"))
            .values("credited_invoice")
            .annotate(total=Sum("total_incl_vat"))
            .values("total")
        ),
        Value(Decimal(0)),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )


def invoice_list(
    *,
    kind: str = Invoice.Kind.INVOICE,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str = "",
    driver: str = "",
    charger: str = "",
) -> QuerySet[Invoice]:
    """status (invoices): "open" (nothing credited), "partially_credited", "credited"."""
    qs = Invoice.objects.filter(kind=kind).select_related("cdr", "customer", "credited_invoice")
    qs = qs.annotate(credited=_credited())
    qs = _date_range(qs, "issued_at", date_from, date_to)
    if status == "open":
        qs = qs.filter(credited=0)
    elif status == "partially_credited":
        qs = qs.filter(credited__gt=0, credited__lt=F("total_incl_vat"))
    elif status == "credited":
        qs = qs.filter(credited__gte=F("total_incl_vat"))
    if driver:
        qs = qs.filter(Q(customer_email__icontains=driver) | Q(customer_name__icontains=driver))
    if charger:
        qs = qs.filter(cdr__charge_point_identity__icontains=charger)
    return qs.order_by("-issued_at", "-id")


def invoice_status(invoice: Invoice) -> str:
    credited = getattr(invoice, "credited", None)
    if credited is None:
        credited = invoice_credited_amount(invoice=invoice)
    if invoice.kind != Invoice.Kind.INVOICE or not credited:
        return "open" if invoice.kind == Invoice.Kind.INVOICE else "issued"
    return "credited" if credited >= invoice.total_incl_vat else "partially_credited"


def invoice_credited_amount(*, invoice: Invoice) -> Decimal:
    total = invoice.credit_notes.aggregate(total=Sum("total_incl_vat"))["total"]
    return total or Decimal(0)


def invoice_for_driver(*, user) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer=user).select_related("cdr").order_by("-issued_at", "-id")


def running_cost(*, transaction) -> dict | None:
    """What a session in progress has cost so far, priced exactly as its CDR will be
    (same effective tariff, same engine), from the meter values received until now."""
    import copy

    from django.utils import timezone

    cp = transaction.charge_point
    owner = transaction.id_token.owner if transaction.id_token_id else None
    tariff = tariff_for_charging(charge_point=cp, evse_id=transaction.evse_id, user=owner, at=transaction.started_at)
    if tariff is None:
        return None
    readings = _readings(transaction, ENERGY)
    snapshot = copy.copy(transaction)  # never saved: a priced "as if it stopped now" view
    if snapshot.stopped_at is None:
        snapshot.stopped_at = timezone.now()
        latest = max(readings.items())[1] if readings else Decimal(transaction.meter_start)
        snapshot.meter_stop = int(max(latest, Decimal(transaction.meter_start)))
    time_zone = cp.location.time_zone if cp.location else current_organization().timezone
    session, _ = session_for_transaction(snapshot, time_zone=time_zone)
    try:
        result = price_session(tariff_to_domain(tariff), session)
    except PricingError:
        return None
    return {
        "currency": result.currency,
        "total_excl_vat": result.total_excl_vat,
        "total_incl_vat": result.total_incl_vat,
        "tariff": tariff,
    }
