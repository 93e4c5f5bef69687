"""Tariffs in the operator's own admin (operator_admin_site, never the platform's admin.site).

Django admin cannot nest inlines, so a tariff shows its elements (and alt texts, assignments)
inline, and each element has its own page with its price components and restrictions.
"""

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin_sites import operator_admin_site
from apps.tariffs.models import (
    CustomerGroup,
    PriceComponent,
    Tariff,
    TariffAltText,
    TariffAssignment,
    TariffElement,
    TariffRestriction,
)


class AltTextInline(admin.TabularInline):
    model = TariffAltText
    extra = 0


class ElementInline(admin.TabularInline):
    model = TariffElement
    extra = 0
    fields = ("position", "summary", "edit")
    readonly_fields = ("summary", "edit")

    @admin.display(description="price components")
    def summary(self, obj):
        return ", ".join(f"{pc.type} {pc.price}" for pc in obj.price_components.all()) if obj.pk else "—"

    @admin.display(description="")
    def edit(self, obj):
        if not obj.pk:
            return "Save first, then edit components and restrictions."
        url = reverse(f"{operator_admin_site.name}:tariffs_tariffelement_change", args=[obj.pk])
        return format_html('<a href="{}">Components and restrictions</a>', url)


class AssignmentInline(admin.TabularInline):
    model = TariffAssignment
    extra = 0
    fields = ("scope", "scope_ref", "customer_group", "priority", "valid_from", "valid_until")


@admin.register(Tariff, site=operator_admin_site)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("__str__", "ocpi_id", "currency", "type", "last_updated")
    list_filter = ("currency", "type")
    search_fields = ("name", "ocpi_id")
    readonly_fields = ("last_updated", "created_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [AltTextInline, ElementInline, AssignmentInline]
    fieldsets = (
        (None, {"fields": ("name", "currency", "type", "tariff_alt_url")}),
        ("OCPI identity", {"fields": ("ocpi_id", "country_code", "party_id")}),
        (
            "Bounds",
            {
                "fields": (
                    ("min_price_excl_vat", "min_price_incl_vat"),
                    ("max_price_excl_vat", "max_price_incl_vat"),
                    "start_date_time",
                    "end_date_time",
                )
            },
        ),
        ("Idle fee (EVzone)", {"fields": ("idle_fee_per_hour", "idle_fee_vat", "idle_grace_minutes")}),
        ("Other", {"fields": ("energy_mix", "last_updated", "created_at")}),
    )

    def save_model(self, request, obj, form, change):
        obj.last_updated = timezone.now()  # OCPI receivers rely on it to pick up changes
        super().save_model(request, obj, form, change)


class PriceComponentInline(admin.TabularInline):
    model = PriceComponent
    extra = 1


class RestrictionInline(admin.StackedInline):
    model = TariffRestriction
    extra = 0
    max_num = 1


@admin.register(TariffElement, site=operator_admin_site)
class TariffElementAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tariff", "position")
    list_filter = ("tariff",)
    inlines = [PriceComponentInline, RestrictionInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        Tariff.objects.filter(pk=form.instance.tariff_id).update(last_updated=timezone.now())


@admin.register(CustomerGroup, site=operator_admin_site)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    filter_horizontal = ("members",)


@admin.register(TariffAssignment, site=operator_admin_site)
class TariffAssignmentAdmin(admin.ModelAdmin):
    list_display = ("tariff", "scope", "scope_ref", "customer_group", "priority", "valid_from", "valid_until")
    list_filter = ("scope", "customer_group")
    search_fields = ("scope_ref", "tariff__name")
