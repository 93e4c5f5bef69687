"""/api/v1/cdrs/ (OCPI 2.2.1 CDR shape) and /api/v1/invoices/ (with a PDF link). Read-only,
for the roles that see money. Decimals are strings, as everywhere in the EVzone API; the
OCPI module turns them into JSON numbers on the roaming wire."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action

from apps.billing import selectors
from apps.billing.forms import FinanceFilterForm
from apps.billing.models import ChargeDetailRecord, Invoice
from apps.billing.pdf import invoice_pdf
from apps.tariffs.ocpi import format_datetime


def _price(excl, incl) -> dict | None:
    return None if excl is None else {"excl_vat": str(excl), "incl_vat": None if incl is None else str(incl)}


class CdrSerializer(serializers.BaseSerializer):
    def to_representation(self, c: ChargeDetailRecord) -> dict:
        return {
            "id": c.cdr_id,
            "start_date_time": format_datetime(c.start_date_time),
            "end_date_time": format_datetime(c.end_date_time),
            "cdr_token": {"uid": c.token_uid, "type": c.token_type, "contract_id": c.token_contract_id},
            "auth_method": c.auth_method,
            "cdr_location": c.cdr_location,
            "currency": c.currency,
            "tariffs": c.tariffs,
            "charging_periods": c.charging_periods,
            "total_cost": _price(c.total_cost_excl_vat, c.total_cost_incl_vat),
            "total_fixed_cost": _price(c.total_fixed_cost_excl_vat, c.total_fixed_cost_incl_vat),
            "total_energy": str(c.total_energy.normalize()),
            "total_energy_cost": _price(c.total_energy_cost_excl_vat, c.total_energy_cost_incl_vat),
            "total_time": str(c.total_time.normalize()),
            "total_time_cost": _price(c.total_time_cost_excl_vat, c.total_time_cost_incl_vat),
            "total_parking_time": str(c.total_parking_time.normalize()),
            "total_parking_cost": _price(c.total_parking_cost_excl_vat, c.total_parking_cost_incl_vat),
            "last_updated": format_datetime(c.last_updated),
            # EVzone fields (not OCPI).
            "evzone": {
                "pk": c.pk,
                "transaction": c.transaction_id,
                "replaces": c.replaces.cdr_id if c.replaces_id else None,
                "correction_reason": c.correction_reason,
                "no_tariff": c.no_tariff,
                "pricing_notes": c.pricing_notes,
                "cost_lines": c.cost_lines,
                "conversion": None
                if c.conversion_rate is None
                else {
                    "currency": c.organization_currency,
                    "total_cost": _price(c.converted_total_excl_vat, c.converted_total_incl_vat),
                    "rate": str(c.conversion_rate.normalize()),
                    "rate_date": c.conversion_rate_date.isoformat(),
                    "source": "ECB euro foreign exchange reference rates",
                },
            },
        }


class InvoiceSerializer(serializers.BaseSerializer):
    def to_representation(self, i: Invoice) -> dict:
        request = self.context.get("request")
        pdf = reverse("api:invoice-pdf", args=[i.pk])
        return {
            "id": i.pk,
            "number": i.number,
            "kind": i.kind,
            "issued_at": format_datetime(i.issued_at),
            "cdr_id": i.cdr.cdr_id,
            "credited_invoice": i.credited_invoice.number if i.credited_invoice_id else None,
            "reason": i.reason,
            "currency": i.currency,
            "total_excl_vat": str(i.total_excl_vat),
            "total_vat": str(i.total_vat),
            "total_incl_vat": str(i.total_incl_vat),
            "vat_breakdown": i.vat_breakdown,
            "lines": [
                {
                    "description": ln.description,
                    "quantity": None if ln.quantity is None else str(ln.quantity.normalize()),
                    "unit": ln.unit,
                    "unit_price": None if ln.unit_price is None else str(ln.unit_price.normalize()),
                    "vat_rate": None if ln.vat_rate is None else str(ln.vat_rate.normalize()),
                    "net_amount": str(ln.net_amount),
                }
                for ln in i.lines.all()
            ],
            "seller": i.seller,
            "customer": {"name": i.customer_name, "email": i.customer_email},
            "conversion": None
            if i.conversion_rate is None
            else {
                "currency": i.converted_currency,
                "total_incl_vat": str(i.converted_total_incl_vat),
                "total_vat": str(i.converted_total_vat),
                "rate": str(i.conversion_rate.normalize()),
                "rate_date": i.conversion_rate_date.isoformat(),
            },
            "pdf_url": request.build_absolute_uri(pdf) if request else pdf,
        }


FILTERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
    OpenApiParameter("status", str),
    OpenApiParameter("driver", str, description="E-mail, name or card uid contains"),
    OpenApiParameter("charger", str, description="Charger identity contains"),
]


@extend_schema_view(
    list=extend_schema(operation_id="cdrs_list", parameters=FILTERS, responses=OpenApiTypes.OBJECT),
    retrieve=extend_schema(responses=OpenApiTypes.OBJECT),
)
class CdrViewSet(viewsets.ReadOnlyModelViewSet):
    """Charge detail records, newest first. `status`: current, corrected, correction, no_tariff."""

    serializer_class = CdrSerializer
    policy = {"list": "money.view", "retrieve": "money.view"}
    filter_backends: list = []

    def get_queryset(self):
        return selectors.cdr_list(**FinanceFilterForm(self.request.GET).filters())


@extend_schema_view(
    list=extend_schema(
        operation_id="invoices_list",
        parameters=[*FILTERS, OpenApiParameter("kind", str)],
        responses=OpenApiTypes.OBJECT,
    ),
    retrieve=extend_schema(responses=OpenApiTypes.OBJECT),
)
class InvoiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Invoices (`kind=invoice`, default) and credit notes (`kind=credit_note`)."""

    serializer_class = InvoiceSerializer
    policy = {"list": "money.view", "retrieve": "money.view", "pdf": "money.view"}
    filter_backends: list = []

    def get_queryset(self):
        kind = self.request.GET.get("kind") or Invoice.Kind.INVOICE
        if self.action != "list":
            return Invoice.objects.select_related("cdr", "credited_invoice").prefetch_related("lines")
        filters = FinanceFilterForm(self.request.GET).filters()
        return selectors.invoice_list(kind=kind, **filters).prefetch_related("lines")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response
