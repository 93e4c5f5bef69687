from django.urls import path

from apps.portal import (
    urls_certificates,
    urls_devicemodel,
    urls_diagnostics,
    urls_inventory,
    urls_smartcharging,
    views,
    views_inventory,
    views_locallists,
    views_locations,
    views_network,
    views_reservations,
    views_tokens,
)

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/resend/", views.user_resend_invitation, name="user_resend"),
    path("account/tokens/", views.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("organization/", views.organization_settings, name="organization"),
    path("organizations/", views.child_list, name="child_list"),
    path("locations/", views_locations.location_list, name="location_list"),
    path("locations/new/", views_locations.location_edit, name="location_create"),
    path("locations/<int:pk>/", views_locations.location_detail, name="location_detail"),
    path("locations/<int:pk>/edit/", views_locations.location_edit, name="location_edit"),
    path("chargers/", views_network.charger_list, name="charger_list"),
    path("chargers/<str:identity>/", views_network.charger_detail, name="charger_detail"),
    path("chargers/<str:identity>/command/", views_network.charger_command, name="charger_command"),
    path("chargers/<str:identity>/registration/", views_network.charger_registration, name="charger_registration"),
    path("chargers/<str:identity>/messages/", views_network.charger_messages, name="charger_messages"),
    path("cards/", views_tokens.token_list, name="idtoken_list"),
    path("cards/new/", views_tokens.token_edit, name="idtoken_create"),
    path("cards/import/", views_inventory.card_import, name="idtoken_import"),
    path("cards/export.<str:fmt>", views_inventory.card_export, name="idtoken_export"),
    path("cards/<int:pk>/", views_tokens.token_edit, name="idtoken_edit"),
    path("cards/<int:pk>/block/", views_tokens.token_block, name="idtoken_block"),
    path("my/charging/", views_tokens.driver_charging, name="driver_charging"),
    path("sessions/", views_network.session_list, name="session_list"),
    path("sessions/export.csv", views_network.session_export, name="session_export"),
    path("sessions/<int:pk>/", views_network.session_detail, name="session_detail"),
]

urlpatterns += views_locallists.urlpatterns
urlpatterns += views_reservations.urlpatterns
urlpatterns += (
    urls_devicemodel.urlpatterns
    + urls_certificates.urlpatterns
    + urls_smartcharging.urlpatterns
    + urls_diagnostics.urlpatterns
)
# First: "chargers/import/" must not be taken for a charger called "import".
urlpatterns = urls_inventory.urlpatterns + urlpatterns
