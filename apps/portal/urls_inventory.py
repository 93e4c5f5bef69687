"""Network inventory pages, mounted inside the portal's URLs (namespace "portal").

apps/portal/urls.py puts these *before* its own patterns: "chargers/import/" would
otherwise be taken for the charger with identity "import".
"""

from django.urls import path

from apps.portal import views_inventory

urlpatterns = [
    path("chargers/import/", views_inventory.charger_import, name="charger_import"),
    path("chargers/export.<str:fmt>", views_inventory.charger_export, name="charger_export"),
    path("chargers/<str:identity>/connectors/", views_inventory.charger_connectors, name="charger_connectors"),
    path("locations/import/", views_inventory.location_import, name="location_import"),
    path("locations/export.<str:fmt>", views_inventory.location_export, name="location_export"),
]
