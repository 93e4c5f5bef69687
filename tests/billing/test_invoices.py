"""Receipts and credit notes: VAT per rate, gapless numbers under concurrency, the PDF read
back, the e-mail with the PDF attached."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from pypdf import PdfReader

from apps.billing.models import Invoice, InvoiceDelivery, NumberSeries
from apps.billing.pdf import invoice_pdf
from apps.billing.services import cdr_create_for_transaction, credit_note_issue, number_next
from apps.billing.services.invoices import allocate
from tests.billing.conftest import EVENING_TARIFF, import_tariff, run_session

YEAR = timezone.now().year
# Energy at 19 % VAT plus a session fee at 7 % (two VAT rates on one receipt).
TWO_RATES = dict(
    EVENING_TARIFF,
    id="TWO-RATES",
    elements=[
        {
            "price_components": [
                {"type": "FLAT", "price": "1.00", "vat": "7", "step_size": 0},
                {"type": "ENERGY", "price": "0.3333", "vat": "19", "step_size": 1},
            ]
        },
    ],
)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_receipt_with_vat_lines_per_rate_is_emailed_with_its_pdf(
    in_tenant_a, legal, charger, driver, django_capture_on_commit_callbacks
):
    import_tariff(TWO_RATES)
    with django_capture_on_commit_callbacks(execute=True):
        cdr = cdr_create_for_transaction(transaction=run_session(charger, meter_stop=31000))  # 30 kWh
    # Engine: 1.00 + 30 x 0.3333 = 10.999 -> 11.00 excl.; incl. 1.07 + 11.89881 = 12.96881 -> 12.97.
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("11.00"), Decimal("12.97"))
    invoice = Invoice.objects.get(cdr=cdr)
    assert invoice.number == f"INV-{YEAR}-000001" and invoice.customer_email == "dora@example.com"
    assert [(ln.description, ln.net_amount, ln.vat_rate) for ln in invoice.lines.all()] == [
        ("Session fee", Decimal("1.00"), Decimal("7")),
        ("Energy", Decimal("10.00"), Decimal("19")),
    ]
    assert invoice.vat_breakdown == [
        {"rate": "7", "net": "1.00", "vat": "0.07", "gross": "1.07"},
        {"rate": "19", "net": "10.00", "vat": "1.90", "gross": "11.90"},
    ]
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        Decimal("11.00"),
        Decimal("1.97"),
        Decimal("12.97"),
    )
    assert invoice.seller["legal_name"] == "Alpha Charging GmbH"

    [message] = mail.outbox
    assert message.to == ["dora@example.com"] and invoice.number in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"{invoice.number}.pdf" and mimetype == "application/pdf"
    text = pdf_text(content)
    for expected in (
        invoice.number,
        "Alpha Charging GmbH",
        "DE123456789",
        "HRB 424242",
        "Hauptstrasse 1",
        "Dora Driver",
        "12.97 EUR",
        "11.00 EUR",
        "1.97 EUR",
        "0.07 EUR",
        "1.90 EUR",
        "19 %",
        "7 %",
        "BILL-CP",
        "30.000 kWh",
    ):
        assert expected in text, expected
    assert InvoiceDelivery.objects.get(invoice=invoice).email == "dora@example.com"


@pytest.mark.django_db
def test_credit_notes_full_and_partial_never_exceed_the_invoice(
    in_tenant_a, legal, charger, driver, admin_user_a, django_capture_on_commit_callbacks
):
    import_tariff(TWO_RATES)
    cdr = cdr_create_for_transaction(transaction=run_session(charger, meter_stop=31000))
    invoice = Invoice.objects.get(cdr=cdr)
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=invoice, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        partial = credit_note_issue(
            invoice=invoice, reason="Connector fault", amount_incl_vat=Decimal("5.00"), user=admin_user_a
        )
    assert partial.number == f"CN-{YEAR}-000001" and partial.credited_invoice == invoice
    # 5.00 spread over the rates by gross share (1.07 : 11.90), VAT taken out of each part.
    assert partial.vat_breakdown == [
        {"rate": "7", "net": "0.38", "vat": "0.03", "gross": "0.41"},
        {"rate": "19", "net": "3.86", "vat": "0.73", "gross": "4.59"},
    ]
    assert partial.total_incl_vat == Decimal("5.00")
    assert "Credit note" in pdf_text(mail.outbox[-1].attachments[0][1])
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=invoice, reason="too much", amount_incl_vat=Decimal("7.98"))
    rest = credit_note_issue(invoice=invoice, reason="Goodwill")
    assert rest.number == f"CN-{YEAR}-000002" and rest.total_incl_vat == Decimal("7.97")
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=invoice, reason="nothing left")
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=partial, reason="a credit note cannot be credited")


@pytest.mark.django_db
def test_full_credit_note_mirrors_the_lines_and_pdf_shows_them(in_tenant_a, legal, charger, driver):
    import_tariff(TWO_RATES)
    invoice = Invoice.objects.get(cdr=cdr_create_for_transaction(transaction=run_session(charger, meter_stop=31000)))
    note = credit_note_issue(invoice=invoice, reason="Session aborted")
    assert [ln.net_amount for ln in note.lines.all()] == [ln.net_amount for ln in invoice.lines.all()]
    assert note.vat_breakdown == invoice.vat_breakdown and note.total_incl_vat == invoice.total_incl_vat
    text = pdf_text(invoice_pdf(note))
    assert note.number in text and invoice.number in text and "Session aborted" in text


def test_largest_remainder_rounding_adds_up():
    assert allocate([Decimal("3.335"), Decimal("3.335"), Decimal("3.33")], Decimal("10.00"), "EUR") == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert allocate([Decimal("0.4"), Decimal("0.4")], Decimal("1"), "JPY") == [Decimal("1"), Decimal("0")]
    assert allocate([Decimal("1.2345")], Decimal("1.235"), "KWD") == [Decimal("1.235")]


def test_numbers_are_gapless_under_concurrency(db):
    """Committing threads (each with its own connection) take numbers at once; those whose
    transaction fails give theirs back. The committed numbers are 1..n without a gap."""
    start = threading.Barrier(8)

    def issue(i):
        try:
            with schema_context("org_alpha"):
                start.wait(timeout=10)
                try:
                    with transaction.atomic():
                        number = number_next(series="TST", year=2099)
                        if i % 3 == 0:
                            raise RuntimeError("the document could not be stored")
                        return number
                except RuntimeError:
                    return None
        finally:
            connection.close()

    def cleanup():
        try:
            with schema_context("org_alpha"):
                NumberSeries.objects.filter(series="TST").delete()
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            numbers = sorted(n for n in pool.map(issue, range(24)) if n)
        assert numbers == [f"TST-2099-{n:06d}" for n in range(1, 17)]
    finally:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(cleanup).result()
