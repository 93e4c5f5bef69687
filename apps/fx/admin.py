from django.contrib import admin

from apps.fx.models import ExchangeRate


@admin.register(ExchangeRate)  # the platform back office (public schema)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("date", "currency", "rate", "source", "fetched_at")
    list_filter = ("source", "currency")
    date_hierarchy = "date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
