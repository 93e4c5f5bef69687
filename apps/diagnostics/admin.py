"""Read-only views for the back office: the portal pages are where these are acted on."""

from django.contrib import admin

from apps.core.admin_sites import operator_admin_site
from apps.diagnostics.models import DisplayMessage, LogRequest, Monitor, StationEvent


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LogRequest, site=operator_admin_site)
class LogRequestAdmin(ReadOnly):
    list_display = ("charge_point", "log_type", "request_id", "answer", "status", "file_name", "created_at")
    list_filter = ("log_type", "status")
    search_fields = ("charge_point__identity",)
    exclude = ("token",)


@admin.register(StationEvent, site=operator_admin_site)
class StationEventAdmin(ReadOnly):
    list_display = (
        "charge_point",
        "timestamp",
        "severity",
        "component_name",
        "variable_name",
        "actual_value",
        "is_alert",
    )
    list_filter = ("is_alert", "cleared", "trigger")
    search_fields = ("charge_point__identity", "component_name", "variable_name")


@admin.register(Monitor, site=operator_admin_site)
class MonitorAdmin(ReadOnly):
    list_display = ("charge_point", "monitor_id", "component_name", "variable_name", "type", "value", "severity")
    search_fields = ("charge_point__identity", "component_name", "variable_name")


@admin.register(DisplayMessage, site=operator_admin_site)
class DisplayMessageAdmin(ReadOnly):
    list_display = ("charge_point", "message_id", "priority", "state", "content")
    search_fields = ("charge_point__identity", "content")
