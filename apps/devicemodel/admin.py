"""Operator back office: the device model is the charger's own report (read-only here);
vendor templates are edited on the portal page, which parses and validates them."""

from django.contrib import admin

from apps.core.admin_sites import operator_admin_site
from apps.devicemodel.models import (
    Component,
    DeviceReport,
    PasswordRotation,
    SecurityProfileUpgrade,
    TemplateApplication,
    Variable,
    VariableAttribute,
    VendorTemplate,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VariableInline(admin.TabularInline):
    model = Variable
    extra = 0
    fields = ("name", "instance", "data_type", "unit", "min_limit", "max_limit", "values_list")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class AttributeInline(admin.TabularInline):
    model = VariableAttribute
    extra = 0
    fields = ("type", "value", "mutability", "persistent", "constant", "last_set_status", "last_set_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Component, site=operator_admin_site)
class ComponentAdmin(ReadOnlyAdmin):
    list_display = ("charge_point", "name", "instance", "evse_id", "connector_id")
    list_filter = ("name",)
    search_fields = ("charge_point__identity", "name", "variables__name")
    list_select_related = ("charge_point",)
    inlines = [VariableInline]


@admin.register(Variable, site=operator_admin_site)
class VariableAdmin(ReadOnlyAdmin):
    list_display = ("component", "name", "instance", "data_type", "unit")
    search_fields = ("component__charge_point__identity", "component__name", "name")
    list_select_related = ("component__charge_point",)
    inlines = [AttributeInline]


@admin.register(DeviceReport, site=operator_admin_site)
class DeviceReportAdmin(ReadOnlyAdmin):
    list_display = ("charge_point", "request_id", "report_base", "status", "items", "requested_at", "completed_at")
    list_filter = ("status", "report_base")
    search_fields = ("charge_point__identity",)
    list_select_related = ("charge_point",)


@admin.register(VendorTemplate, site=operator_admin_site)
class VendorTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "vendor", "model", "firmware_prefix", "enabled", "auto_accept", "revision")
    list_filter = ("enabled", "vendor")
    search_fields = ("name", "vendor", "model")
    # The variables are edited on the portal (one line per setting, parsed and validated there).
    readonly_fields = ("variables", "network_profile", "revision")


@admin.register(TemplateApplication, site=operator_admin_site)
class TemplateApplicationAdmin(ReadOnlyAdmin):
    list_display = ("charge_point", "template_name", "template_revision", "trigger", "status", "created_at")
    list_filter = ("status", "trigger")
    search_fields = ("charge_point__identity", "template_name")
    list_select_related = ("charge_point",)


@admin.register(PasswordRotation, site=operator_admin_site)
class PasswordRotationAdmin(ReadOnlyAdmin):
    list_display = ("charge_point", "status", "answer", "requested_by", "created_at")
    list_filter = ("status",)
    exclude = ("new_hash",)
    search_fields = ("charge_point__identity",)


@admin.register(SecurityProfileUpgrade, site=operator_admin_site)
class SecurityProfileUpgradeAdmin(ReadOnlyAdmin):
    list_display = ("charge_point", "from_profile", "target_profile", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("charge_point__identity",)
