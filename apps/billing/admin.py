"""Billing in the operator's admin: read-only. CDRs and invoices are corrected and credited
through the services (new records), never edited."""

from django.contrib import admin

from apps.billing.models import BillingSettings, ChargeDetailRecord, Invoice, InvoiceLine
from apps.core.admin_sites import operator_admin_site


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChargeDetailRecord, site=operator_admin_site)
class ChargeDetailRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "cdr_id",
        "charge_point_identity",
        "start_date_time",
        "total_energy",
        "total_cost_incl_vat",
        "currency",
        "no_tariff",
        "replaces",
    )
    list_filter = ("no_tariff", "currency", "auth_method")
    search_fields = ("cdr_id", "charge_point_identity", "token_uid", "driver__email")
    date_hierarchy = "start_date_time"


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("position", "description", "quantity", "unit", "unit_price", "vat_rate", "net_amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice, site=operator_admin_site)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "issued_at", "customer_email", "total_incl_vat", "currency")
    list_filter = ("kind", "currency")
    search_fields = ("number", "customer_email", "customer_name")
    date_hierarchy = "issued_at"
    inlines = [InvoiceLineInline]


@admin.register(BillingSettings, site=operator_admin_site)
class BillingSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "min_billable_energy_kwh", "min_billable_minutes")

    def has_add_permission(self, request):
        return not BillingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
