"""Charging session pages, mounted in the portal namespace by apps/portal/urls.py."""

from django.urls import path

from apps.portal.charging import views

urlpatterns = [
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/export.csv", views.session_export, name="session_export"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
]
