"""Invoices (driver receipts) and credit notes.

Rounding: an invoice's line amounts are the CDR's exact line amounts rounded with the
largest-remainder method, so they add up to the CDR's total excl. VAT to the minor unit.
VAT is computed per rate on the sum of that rate's lines, rounded half up (EU invoicing:
VAT per rate). The total incl. VAT is net + VAT and can differ from the engine's
separately rounded total incl. VAT by at most one minor unit per VAT rate.
"""

from __future__ import annotations

import math
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.billing import tasks
from apps.billing.models import ChargeDetailRecord, Invoice, InvoiceLine
from apps.billing.selectors import current_organization, invoice_credited_amount
from apps.billing.services.numbering import CREDIT_NOTE_SERIES, INVOICE_SERIES, number_next
from apps.core.money import quantize

DESCRIPTIONS = {
    ("ENERGY", "tariff"): "Energy",
    ("TIME", "tariff"): "Charging time",
    ("PARKING_TIME", "tariff"): "Parking time",
    ("PARKING_TIME", "idle_fee"): "Idle fee",
    ("FLAT", "tariff"): "Session fee",
    ("RESERVATION_TIME", "tariff"): "Reservation",
}


def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-get_currency_precision(currency))


def allocate(amounts: list[Decimal], total: Decimal, currency: str) -> list[Decimal]:
    """Round `amounts` to the currency's minor unit so that they add up to `total` exactly
    (largest remainder; `total` must be the rounded sum, as the engine's total is)."""
    unit = _unit(currency)
    floors = [Decimal(math.floor(a / unit)) * unit for a in amounts]
    missing = int((total - sum(floors, Decimal(0))) / unit)
    order = sorted(range(len(amounts)), key=lambda i: (amounts[i] - floors[i], -i), reverse=True)
    for i in order[: max(missing, 0)]:
        floors[i] += unit
    return [quantize(f, currency) for f in floors]


def _seller(org) -> dict:
    return {
        "name": org.name,
        "legal_name": org.legal_name or org.name,
        "address": org.address,
        "postal_code": org.postal_code,
        "city": org.city,
        "country": org.country,
        "vat_number": org.vat_number,
        "registration_number": org.registration_number,
        "support_email": org.support_email,
    }


def _breakdown(lines: list[InvoiceLine], currency: str, gross_by_rate: dict | None = None) -> list[dict]:
    rates: dict = {}
    for line in lines:
        rates.setdefault(line.vat_rate, Decimal(0))
        rates[line.vat_rate] += line.net_amount
    out = []
    for rate, net in sorted(rates.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        if gross_by_rate is not None:
            vat = gross_by_rate[rate] - net
        else:
            vat = quantize(net * rate / 100, currency) if rate is not None else Decimal(0)
        out.append(
            {
                "rate": None if rate is None else format(rate.normalize(), "f"),
                "net": str(quantize(net, currency)),
                "vat": str(quantize(vat, currency)),
                "gross": str(quantize(net + vat, currency)),
            }
        )
    return out


def _store(
    *,
    kind: str,
    cdr: ChargeDetailRecord,
    lines: list[InvoiceLine],
    org,
    customer,
    name: str,
    email: str,
    credited: Invoice | None = None,
    reason: str = "",
    user=None,
    gross_by_rate: dict | None = None,
) -> Invoice:
    now = timezone.now()
    year = timezone.localtime(now, timezone=ZoneInfo(org.timezone)).year
    series = INVOICE_SERIES if kind == Invoice.Kind.INVOICE else CREDIT_NOTE_SERIES
    breakdown = _breakdown(lines, cdr.currency, gross_by_rate)
    net = sum((Decimal(b["net"]) for b in breakdown), Decimal(0))
    vat = sum((Decimal(b["vat"]) for b in breakdown), Decimal(0))
    invoice = Invoice(
        kind=kind,
        number=number_next(series=series, year=year),
        cdr=cdr,
        credited_invoice=credited,
        reason=reason,
        issued_at=now,
        issued_by=user,
        currency=cdr.currency,
        total_excl_vat=net,
        total_vat=vat,
        total_incl_vat=net + vat,
        vat_breakdown=breakdown,
        seller=_seller(org),
        customer=customer,
        customer_name=name,
        customer_email=email,
    )
    source = credited or cdr
    if source.conversion_rate is not None:
        # The organisation's currency at the rate the CDR (or the credited invoice) recorded.
        target = source.converted_currency if credited else cdr.organization_currency
        invoice.converted_currency = target
        invoice.converted_total_incl_vat = quantize(invoice.total_incl_vat * source.conversion_rate, target)
        invoice.converted_total_vat = quantize(vat * source.conversion_rate, target)
        invoice.conversion_rate = source.conversion_rate
        invoice.conversion_rate_date = source.conversion_rate_date
    invoice.save()
    for position, line in enumerate(lines):
        line.invoice, line.position = invoice, position
    InvoiceLine.objects.bulk_create(lines)

    # The e-mail (with the PDF) goes out only once the document is committed.
    transaction.on_commit(lambda: tasks.send_invoice.delay(invoice.pk))
    return invoice


def _cdr_lines(cdr: ChargeDetailRecord) -> list[InvoiceLine]:
    items = [
        {
            "description": DESCRIPTIONS.get((c["type"], c["source"]), c["type"].title()),
            "quantity": Decimal(c["volume"]) if c["type"] != "FLAT" else Decimal(1),
            "unit": c["unit"],
            "unit_price": Decimal(c["unit_price"]),
            "vat_rate": None if c["vat"] is None else Decimal(c["vat"]),
            "exact": Decimal(c["excl_vat"]),
        }
        for c in cdr.cost_lines
    ]
    difference = cdr.total_cost_excl_vat - sum((i["exact"] for i in items), Decimal(0))
    if (cdr.min_price_applied or cdr.max_price_applied) and quantize(difference, cdr.currency):
        largest = max(items, key=lambda i: i["exact"], default=None)
        items.append(
            {
                "description": "Minimum price" if difference > 0 else "Maximum price",
                "quantity": None,
                "unit": "",
                "unit_price": None,
                "vat_rate": largest["vat_rate"] if largest else _tariff_vat(cdr),
                "exact": difference,
            }
        )
    amounts = allocate([i.pop("exact") for i in items], cdr.total_cost_excl_vat, cdr.currency)
    return [InvoiceLine(net_amount=amount, **item) for item, amount in zip(items, amounts, strict=True)]


def _tariff_vat(cdr: ChargeDetailRecord) -> Decimal | None:
    for element in cdr.tariffs[0]["elements"] if cdr.tariffs else []:
        for component in element["price_components"]:
            if component.get("vat") is not None:
                return Decimal(str(component["vat"]))
    return None


@transaction.atomic
def invoice_issue_for_cdr(*, cdr: ChargeDetailRecord, user=None) -> Invoice | None:
    """The driver's receipt for a CDR, once. None when there is nobody to invoice (no driver
    behind the id token) or nothing to pay."""
    existing = Invoice.objects.filter(cdr=cdr, kind=Invoice.Kind.INVOICE).first()
    if existing is not None:
        return existing
    driver = cdr.driver
    if driver is None or not driver.email or cdr.total_cost_excl_vat <= 0:
        return None
    return _store(
        kind=Invoice.Kind.INVOICE,
        cdr=cdr,
        lines=_cdr_lines(cdr),
        org=current_organization(),
        customer=driver,
        name=driver.get_full_name(),
        email=driver.email,
        user=user,
    )


@transaction.atomic
def credit_note_issue(*, invoice: Invoice, reason: str, amount_incl_vat: Decimal | None = None, user=None) -> Invoice:
    """Refund all that is left of `invoice` (no amount) or `amount_incl_vat` of it, spread over
    its VAT rates in proportion to their gross amounts."""
    # Locking the invoice queues concurrent refunds, so together they never exceed it.
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE:
        raise ValidationError("Only an invoice can be credited.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the amount is refunded."})
    credited = invoice_credited_amount(invoice=invoice)
    remaining = invoice.total_incl_vat - credited
    amount = remaining if amount_incl_vat is None else quantize(Decimal(amount_incl_vat), invoice.currency)
    if amount <= 0 or amount > remaining:
        raise ValidationError({"amount_incl_vat": f"Between 0 and {remaining} {invoice.currency} can be credited."})
    common = {
        "kind": Invoice.Kind.CREDIT_NOTE,
        "cdr": invoice.cdr,
        "org": current_organization(),
        "customer": invoice.customer,
        "name": invoice.customer_name,
        "email": invoice.customer_email,
        "credited": invoice,
        "reason": reason.strip(),
        "user": user,
    }
    if credited == 0 and amount == invoice.total_incl_vat:
        lines = [
            InvoiceLine(
                description=ln.description,
                quantity=ln.quantity,
                unit=ln.unit,
                unit_price=ln.unit_price,
                vat_rate=ln.vat_rate,
                net_amount=ln.net_amount,
            )
            for ln in invoice.lines.all()
        ]
        return _store(lines=lines, **common)
    rates = [(None if b["rate"] is None else Decimal(b["rate"]), Decimal(b["gross"])) for b in invoice.vat_breakdown]
    shares = allocate([amount * gross / invoice.total_incl_vat for _, gross in rates], amount, invoice.currency)
    lines, gross_by_rate = [], {}
    for (rate, _), gross in zip(rates, shares, strict=True):
        if not gross:
            continue
        net = quantize(gross / (1 + (rate or 0) / 100), invoice.currency)
        label = "Refund" + (f" (VAT {format(rate.normalize(), 'f')} %)" if rate is not None else "")
        lines.append(InvoiceLine(description=label, vat_rate=rate, net_amount=net))
        gross_by_rate[rate] = gross
    return _store(lines=lines, gross_by_rate=gross_by_rate, **common)
