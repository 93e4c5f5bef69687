"""Back-office views of smart charging and firmware (read-mostly: changes go through the
portal, which validates and sends them to the chargers)."""

from django.contrib import admin

from apps.core.admin_sites import operator_admin_site
from apps.smartcharging.models import ChargingLimit, ChargingProfile, FirmwareCampaign, FirmwareUpdate


@admin.register(ChargingProfile, site=operator_admin_site)
class ChargingProfileAdmin(admin.ModelAdmin):
    list_display = ("charge_point", "profile_id", "evse_id", "purpose", "stack_level", "kind", "status", "source")
    list_filter = ("status", "source", "purpose")
    search_fields = ("charge_point__identity",)
    readonly_fields = [f.name for f in ChargingProfile._meta.fields]


@admin.register(ChargingLimit, site=operator_admin_site)
class ChargingLimitAdmin(admin.ModelAdmin):
    list_display = ("charge_point", "source", "evse_id", "is_grid_critical", "received_at", "cleared_at")
    list_filter = ("source",)
    readonly_fields = [f.name for f in ChargingLimit._meta.fields]


@admin.register(FirmwareCampaign, site=operator_admin_site)
class FirmwareCampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "retrieve_at", "status", "created_at")
    readonly_fields = [f.name for f in FirmwareCampaign._meta.fields]


@admin.register(FirmwareUpdate, site=operator_admin_site)
class FirmwareUpdateAdmin(admin.ModelAdmin):
    list_display = ("charge_point", "request_id", "campaign", "answer", "status", "sent_at", "finished_at")
    list_filter = ("answer", "status")
    search_fields = ("charge_point__identity", "location")
    readonly_fields = [f.name for f in FirmwareUpdate._meta.fields]
