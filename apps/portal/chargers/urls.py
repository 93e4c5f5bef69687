"""Charger pages, mounted in the portal namespace by apps/portal/urls.py."""

from django.urls import path

from apps.portal.chargers import views

# apps/portal/urls.py puts these *before* every "chargers/<identity>/..." pattern:
# "chargers/import/" would otherwise be taken for the charger with identity "import".
fixed_urlpatterns = [
    path("chargers/import/", views.charger_import, name="charger_import"),
    path("chargers/export.<str:fmt>", views.charger_export, name="charger_export"),
]

urlpatterns = [
    path("chargers/", views.charger_list, name="charger_list"),
    path("chargers/<str:identity>/", views.charger_detail, name="charger_detail"),
    path("chargers/<str:identity>/command/", views.charger_command, name="charger_command"),
    path("chargers/<str:identity>/registration/", views.charger_registration, name="charger_registration"),
    path("chargers/<str:identity>/messages/", views.charger_messages, name="charger_messages"),
    path("chargers/<str:identity>/connectors/", views.charger_connectors, name="charger_connectors"),
]
