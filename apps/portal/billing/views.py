"""Finance pages under /billing/: CDRs, invoices and credit notes with filters and CSV export,
an invoice's detail and PDF, credit notes; and the driver's own receipts."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.billing import selectors, services
from apps.billing.forms import FinanceFilterForm
from apps.billing.models import ChargeDetailRecord, Invoice
from apps.billing.pdf import invoice_pdf
from apps.core import exports
from apps.payments.selectors import driver_session_payments
from apps.portal.billing.forms import CreditNoteForm

KIND_PAGES = {
    Invoice.Kind.INVOICE: ("Invoices", "billing:invoice_list"),
    Invoice.Kind.CREDIT_NOTE: ("Credit notes", "billing:credit_note_list"),
}


CDR_STATUSES = [
    ("current", "In force"),
    ("corrected", "Corrected"),
    ("correction", "Corrections"),
    ("no_tariff", "No tariff"),
]


INVOICE_STATUSES = [("open", "Open"), ("partially_credited", "Partially credited"), ("credited", "Credited")]


class _Echo:
    def write(self, value):
        return value


def _csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """Streamed: an organisation may have years of records."""
    writer = exports.csv_writer(_Echo())
    response = StreamingHttpResponse(_rows(writer, header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _rows(writer, header, rows):
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def _filters(request) -> tuple[FinanceFilterForm, dict]:
    form = FinanceFilterForm(request.GET)
    return form, form.filters()


@role_required("money.view")
def cdr_list(request):
    form, filters = _filters(request)
    page = Paginator(selectors.cdr_list(**filters), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/cdr_list.html",
        {"form": form, "cdrs": page, "statuses": CDR_STATUSES, "query": request.GET.urlencode()},
    )


@role_required("money.view")
def cdr_export(request):
    _, filters = _filters(request)
    header = [
        "cdr_id",
        "replaces",
        "transaction",
        "start_utc",
        "end_utc",
        "charger",
        "evse",
        "connector",
        "token_uid",
        "driver_email",
        "currency",
        "total_energy_kwh",
        "total_time_h",
        "total_parking_time_h",
        "total_excl_vat",
        "total_incl_vat",
        "no_tariff",
        "organization_currency",
        "converted_total_incl_vat",
        "conversion_rate",
        "conversion_rate_date",
    ]
    rows = (
        [
            c.cdr_id,
            c.replaces.cdr_id if c.replaces else "",
            c.transaction_id,
            c.start_date_time.isoformat(),
            c.end_date_time.isoformat(),
            c.charge_point_identity,
            c.evse_id,
            c.connector_id,
            c.token_uid,
            c.driver.email if c.driver else "",
            c.currency,
            c.total_energy,
            c.total_time,
            c.total_parking_time,
            c.total_cost_excl_vat,
            c.total_cost_incl_vat,
            c.no_tariff,
            c.organization_currency,
            c.converted_total_incl_vat if c.converted_total_incl_vat is not None else "",
            c.conversion_rate if c.conversion_rate is not None else "",
            c.conversion_rate_date or "",
        ]
        for c in selectors.cdr_list(**filters).iterator(chunk_size=500)
    )
    return _csv("cdrs.csv", header, rows)


@role_required("money.view")
def cdr_detail(request, pk):
    cdr = get_object_or_404(ChargeDetailRecord.objects.select_related("replaces", "driver", "tariff"), pk=pk)
    return render(
        request,
        "billing/cdr_detail.html",
        {
            "cdr": cdr,
            "latest": selectors.cdr_latest(cdr=cdr),
            "invoices": cdr.invoices.order_by("issued_at"),
        },
    )


def _invoice_list(request, kind):
    form, filters = _filters(request)
    page = Paginator(selectors.invoice_list(kind=kind, **filters), 50).get_page(request.GET.get("page"))
    title, url_name = KIND_PAGES[kind]
    return render(
        request,
        "billing/invoice_list.html",
        {
            "form": form,
            "invoices": page,
            "kind": kind,
            "title": title,
            "url_name": url_name,
            "statuses": INVOICE_STATUSES if kind == Invoice.Kind.INVOICE else [],
            "query": request.GET.urlencode(),
        },
    )


@role_required("money.view")
def invoice_list(request):
    return _invoice_list(request, Invoice.Kind.INVOICE)


@role_required("money.view")
def credit_note_list(request):
    return _invoice_list(request, Invoice.Kind.CREDIT_NOTE)


def _invoice_export(request, kind, filename):
    _, filters = _filters(request)
    header = [
        "number",
        "kind",
        "issued_at_utc",
        "credits_invoice",
        "customer_name",
        "customer_email",
        "charger",
        "cdr_id",
        "currency",
        "total_excl_vat",
        "total_vat",
        "total_incl_vat",
        "signed_total_incl_vat",
        "credited_incl_vat",
        "vat_breakdown",
        "converted_currency",
        "converted_total_incl_vat",
        "conversion_rate",
        "conversion_rate_date",
        "reason",
    ]
    sign = 1 if kind == Invoice.Kind.INVOICE else -1
    rows = (
        [
            i.number,
            i.kind,
            i.issued_at.isoformat(),
            i.credited_invoice.number if i.credited_invoice else "",
            i.customer_name,
            i.customer_email,
            i.cdr.charge_point_identity,
            i.cdr.cdr_id,
            i.currency,
            i.total_excl_vat,
            i.total_vat,
            i.total_incl_vat,
            sign * i.total_incl_vat,
            i.credited,
            "; ".join(f"{b['rate'] or 'none'}%: {b['net']} + {b['vat']}" for b in i.vat_breakdown),
            i.converted_currency,
            i.converted_total_incl_vat if i.converted_total_incl_vat is not None else "",
            i.conversion_rate if i.conversion_rate is not None else "",
            i.conversion_rate_date or "",
            i.reason,
        ]
        for i in selectors.invoice_list(kind=kind, **filters).iterator(chunk_size=500)
    )
    return _csv(filename, header, rows)


@role_required("money.view")
def invoice_export(request):
    return _invoice_export(request, Invoice.Kind.INVOICE, "invoices.csv")


@role_required("money.view")
def credit_note_export(request):
    return _invoice_export(request, Invoice.Kind.CREDIT_NOTE, "credit-notes.csv")


@role_required("money.view")
def invoice_detail(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("cdr", "credited_invoice", "customer"), pk=pk)
    credited = selectors.invoice_credited_amount(invoice=invoice)
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "credit_notes": invoice.credit_notes.order_by("issued_at"),
            "credited": credited,
            "remaining": invoice.total_incl_vat - credited,
            "status": selectors.invoice_status(invoice),
            "deliveries": invoice.deliveries.all(),
            "can_credit": allowed(request.user, "money.credit_notes")
            and invoice.kind == Invoice.Kind.INVOICE
            and credited < invoice.total_incl_vat,
            "form": CreditNoteForm(),
        },
    )


def invoice_pdf_download(request, pk):
    """Finance sees every document; a driver only their own."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    invoice = get_object_or_404(Invoice.objects.select_related("cdr", "credited_invoice"), pk=pk)
    if not allowed(request.user, "money.view") and invoice.customer_id != request.user.pk:
        raise PermissionDenied
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@require_POST
@role_required("money.credit_notes")
def credit_note_create(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk, kind=Invoice.Kind.INVOICE)
    form = CreditNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("billing:invoice_detail", pk=invoice.pk)
    try:
        note = services.credit_note_issue(
            invoice=invoice,
            reason=form.cleaned_data["reason"],
            amount_incl_vat=form.cleaned_data["amount_incl_vat"],
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing:invoice_detail", pk=invoice.pk)
    messages.success(request, f"Credit note {note.number} issued for {note.total_incl_vat} {note.currency}.")
    return redirect("billing:invoice_detail", pk=note.pk)


def my_receipts(request):
    """A driver's own receipts and credit notes."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())

    invoices = Paginator(selectors.invoice_for_driver(user=request.user), 50).get_page(request.GET.get("page"))
    card_payments = driver_session_payments(user=request.user)[:20]
    return render(request, "billing/my_receipts.html", {"invoices": invoices, "card_payments": card_payments})
