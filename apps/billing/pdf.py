"""Invoice and credit note PDFs (xhtml2pdf), rendered on demand from the stored, immutable
document: the same invoice always gives the same content."""

from __future__ import annotations

import base64
import io
import logging
from decimal import Decimal

from babel.numbers import get_currency_precision
from django.template.loader import render_to_string
from xhtml2pdf import pisa

from apps.billing.models import Invoice
from apps.billing.selectors import current_organization

log = logging.getLogger(__name__)


def money(amount: Decimal | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    places = get_currency_precision(currency)
    return f"{Decimal(amount):,.{places}f} {currency}"


def _logo_data_uri(org) -> str | None:
    # Inline the logo: xhtml2pdf cannot fetch from remote storage, and the PDF stays self-contained.
    if not org.logo:
        return None
    try:
        with org.logo.open("rb") as fh:
            data = fh.read()
    except (OSError, ValueError) as exc:
        log.warning("Logo of %s unreadable for an invoice: %s", org.slug, exc)
        return None
    kind = "png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def invoice_context(invoice: Invoice) -> dict:
    org = current_organization()
    cur = invoice.currency
    lines = [
        {
            "description": ln.description,
            "quantity": "" if ln.quantity is None else f"{ln.quantity.normalize():f} {ln.unit}".strip(),
            "unit_price": "" if ln.unit_price is None else f"{ln.unit_price.normalize():f} {cur}",
            "vat_rate": "—" if ln.vat_rate is None else f"{ln.vat_rate.normalize():f} %",
            "net": money(ln.net_amount, cur),
        }
        for ln in invoice.lines.all()
    ]
    breakdown = [
        {
            "rate": "no VAT" if b["rate"] is None else f"{b['rate']} %",
            "net": money(b["net"], cur),
            "vat": money(b["vat"], cur),
            "gross": money(b["gross"], cur),
        }
        for b in invoice.vat_breakdown
    ]
    cdr = invoice.cdr
    return {
        "invoice": invoice,
        "is_credit_note": invoice.kind == Invoice.Kind.CREDIT_NOTE,
        "seller": invoice.seller,
        "logo": _logo_data_uri(org),
        "colour": org.primary_colour or "#0a7d5a",
        "lines": lines,
        "breakdown": breakdown,
        "total_excl_vat": money(invoice.total_excl_vat, cur),
        "total_vat": money(invoice.total_vat, cur),
        "total_incl_vat": money(invoice.total_incl_vat, cur),
        "converted_total": money(invoice.converted_total_incl_vat, invoice.converted_currency),
        "converted_vat": money(invoice.converted_total_vat, invoice.converted_currency),
        "cdr": cdr,
        "energy": f"{cdr.total_energy.quantize(Decimal('0.001'))} kWh",
        "location": cdr.cdr_location,
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    html = render_to_string("billing/invoice_pdf.html", invoice_context(invoice))
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if status.err:
        raise RuntimeError(f"Could not render {invoice.number} as PDF.")
    return out.getvalue()
