"""E-mailing invoices and credit notes to the driver, with the PDF attached."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from apps.billing.models import Invoice, InvoiceDelivery
from apps.billing.pdf import invoice_pdf
from apps.billing.selectors import current_organization


def invoice_send(*, invoice: Invoice) -> bool:
    """Send the document to its customer; False when there is no address. Runs in a Celery
    task after commit: SMTP latency and failures stay out of the transaction that issued it."""
    if not invoice.customer_email:
        return False
    org = current_organization()
    what = "receipt" if invoice.kind == Invoice.Kind.INVOICE else "credit note"
    body = (
        f"Hello {invoice.customer_name or invoice.customer_email},\n\n"
        f"attached is your {what} {invoice.number} from {org.name} for your charging session of "
        f"{invoice.cdr.start_date_time:%Y-%m-%d} at {invoice.cdr.charge_point_identity}: "
        f"{invoice.total_incl_vat} {invoice.currency} incl. VAT.\n"
    )
    if invoice.reason:
        body += f"\nReason: {invoice.reason}\n"
    if org.support_email:
        body += f"\nQuestions? Write to {org.support_email}.\n"
    message = EmailMessage(
        subject=f"Your {what} {invoice.number} from {org.name}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invoice.customer_email],
        reply_to=[org.support_email] if org.support_email else None,
    )
    message.attach(f"{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")
    message.send()
    InvoiceDelivery.objects.create(invoice=invoice, email=invoice.customer_email)
    return True
