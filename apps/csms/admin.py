from django.contrib import admin

from apps.core.admin_sites import operator_admin_site
from apps.csms.models import Command, CsmsSettings, MessageLog


@admin.register(CsmsSettings, site=operator_admin_site)
class CsmsSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "unknown_identity_policy", "heartbeat_interval", "message_log_retention_days")

    def has_add_permission(self, request):
        return not CsmsSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MessageLog, site=operator_admin_site)
class MessageLogAdmin(admin.ModelAdmin):
    list_display = (
        "timestamp",
        "identity",
        "direction",
        "message_type",
        "action",
        "unique_id",
        "error_code",
        "latency_ms",
    )
    list_filter = ("direction", "message_type", "action")
    search_fields = ("identity", "unique_id", "action")
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Command, site=operator_admin_site)
class CommandAdmin(admin.ModelAdmin):
    list_display = ("created_at", "charge_point", "action", "status", "user", "source", "latency_ms")
    list_filter = ("status", "action", "source")
    search_fields = ("charge_point__identity", "action")
    readonly_fields = [f.name for f in Command._meta.fields]

    def has_add_permission(self, request):
        return False
