"""Payments in the operator's admin: read-only audit. The gateway configuration is edited on
the portal's settings page (its secrets are never displayed), so it is not registered here."""

from django.contrib import admin

from apps.billing.admin import ReadOnlyAdmin
from apps.core.admin_sites import operator_admin_site
from apps.payments.models import Payment, PaymentOperation, WebhookEvent


class OperationInline(admin.TabularInline):
    model = PaymentOperation
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "status", "amount", "currency", "idempotency_key", "provider_reference", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment, site=operator_admin_site)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "merchant_reference",
        "kind",
        "provider",
        "status",
        "amount_captured",
        "amount_refunded",
        "currency",
    )
    list_filter = ("kind", "provider", "status")
    search_fields = ("merchant_reference", "reference", "user__email")
    inlines = [OperationInline]


@admin.register(WebhookEvent, site=operator_admin_site)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "provider", "event_type", "received_at", "processed_at", "result")
    list_filter = ("provider", "event_type")
    search_fields = ("event_id",)
