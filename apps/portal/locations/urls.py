"""Location pages, mounted in the portal namespace by apps/portal/urls.py."""

from django.urls import path

from apps.portal.locations import views

urlpatterns = [
    path("locations/", views.location_list, name="location_list"),
    path("locations/new/", views.location_edit, name="location_create"),
    path("locations/import/", views.location_import, name="location_import"),
    path("locations/export.<str:fmt>", views.location_export, name="location_export"),
    path("locations/<int:pk>/", views.location_detail, name="location_detail"),
    path("locations/<int:pk>/edit/", views.location_edit, name="location_edit"),
]
