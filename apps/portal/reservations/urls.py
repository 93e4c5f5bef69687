"""Mounted in the portal namespace by apps/portal/urls.py."""

from django.urls import path

from apps.portal.reservations import views

urlpatterns = [
    path("chargers/<str:identity>/reservations/", views.charger_reservations, name="charger_reservations"),
    path("chargers/<str:identity>/reservations/new/", views.charger_reserve, name="charger_reserve"),
    path(
        "chargers/<str:identity>/reservations/<int:reservation_id>/cancel/",
        views.charger_reservation_cancel,
        name="charger_reservation_cancel",
    ),
]
