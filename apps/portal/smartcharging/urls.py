"""Portal pages for Smart charging and firmware, mounted in the portal namespace."""

from django.urls import path

from apps.portal.smartcharging import views

urlpatterns: list = [
    path("chargers/<str:identity>/smart-charging/", views.charger_smart_charging, name="charger_smartcharging"),
    path("chargers/<str:identity>/smart-charging/set/", views.charger_profile_set, name="charger_profile_set"),
    path("chargers/<str:identity>/smart-charging/clear/", views.charger_profile_clear, name="charger_profile_clear"),
    path("chargers/<str:identity>/smart-charging/read/", views.charger_profiles_read, name="charger_profiles_read"),
    path(
        "chargers/<str:identity>/smart-charging/composite/",
        views.charger_composite_schedule,
        name="charger_composite_schedule",
    ),
    path("chargers/<str:identity>/firmware/", views.charger_firmware, name="charger_firmware"),
    path("chargers/<str:identity>/firmware/update/", views.charger_firmware_update, name="charger_firmware_update"),
    path("chargers/<str:identity>/firmware/publish/", views.charger_firmware_publish, name="charger_firmware_publish"),
    path(
        "chargers/<str:identity>/firmware/unpublish/",
        views.charger_firmware_unpublish,
        name="charger_firmware_unpublish",
    ),
    path("firmware/campaigns/", views.campaign_list, name="firmware_campaigns"),
    path("firmware/campaigns/new/", views.campaign_create, name="firmware_campaign_create"),
    path("firmware/campaigns/<int:pk>/", views.campaign_detail, name="firmware_campaign"),
    path("firmware/campaigns/<int:pk>/retry/", views.campaign_retry, name="firmware_campaign_retry"),
]
