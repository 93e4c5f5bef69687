from django.contrib import admin

from apps.charging.models import (
    ChargingSettings,
    IdToken,
    MeterValue,
    RemoteStart,
    Reservation,
    Transaction,
    TransactionEvent,
)
from apps.core.admin_sites import operator_admin_site


@admin.register(IdToken, site=operator_admin_site)
class IdTokenAdmin(admin.ModelAdmin):
    list_display = ("id_token", "type", "status", "expires_at", "group_id", "owner", "label")
    list_filter = ("status", "type")
    search_fields = ("id_token", "label", "group_id", "owner__email")
    raw_id_fields = ("owner",)


class MeterValueInline(admin.TabularInline):
    model = MeterValue
    extra = 0
    can_delete = False
    fields = ("timestamp", "measurand", "phase", "value", "unit", "context", "location", "format")
    readonly_fields = fields


class TransactionEventInline(admin.TabularInline):
    """OCPP 2.x TransactionEvents in seqNo order, as received."""

    model = TransactionEvent
    extra = 0
    can_delete = False
    fields = ("seq_no", "event_type", "trigger_reason", "timestamp", "offline", "charging_state", "id_token", "payload")
    readonly_fields = fields


@admin.register(Transaction, site=operator_admin_site)
class TransactionAdmin(admin.ModelAdmin):
    list_display = (
        "transaction_id",
        "charge_point",
        "connector_id",
        "id_tag",
        "status",
        "started_at",
        "stopped_at",
        "meter_start",
        "meter_stop",
        "stop_reason",
    )
    list_filter = ("status", "stop_reason", "stop_missing")
    search_fields = ("transaction_id", "id_tag", "charge_point__identity")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in Transaction._meta.fields]
    inlines = [TransactionEventInline, MeterValueInline]

    def has_add_permission(self, request):
        return False


@admin.register(Reservation, site=operator_admin_site)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ("reservation_id", "charge_point", "connector_id", "id_tag", "status", "expires_at", "created_at")
    list_filter = ("status",)
    search_fields = ("id_tag", "charge_point__identity")
    readonly_fields = [f.name for f in Reservation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(RemoteStart, site=operator_admin_site)
class RemoteStartAdmin(admin.ModelAdmin):
    list_display = ("remote_start_id", "charge_point", "evse_id", "id_token", "charger_status", "source", "created_at")
    search_fields = ("id_token", "charge_point__identity")
    readonly_fields = [f.name for f in RemoteStart._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ChargingSettings, site=operator_admin_site)
class ChargingSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "master_pass_group_id", "cost_update_minutes", "unreported_end_hours")

    def has_add_permission(self, request):
        return not ChargingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
