"""Mounted in the portal namespace by apps/portal/urls.py."""

from django.urls import path

from apps.portal.locallists import views

urlpatterns = [
    path("local-lists/", views.local_list_index, name="locallist_index"),
    path("local-lists/new/", views.local_list_edit, name="locallist_create"),
    path("local-lists/<int:pk>/", views.local_list_edit, name="locallist_edit"),
    path("local-lists/<int:pk>/delete/", views.local_list_delete, name="locallist_delete"),
    path("chargers/<str:identity>/local-list/", views.charger_local_list, name="charger_locallist"),
    path("chargers/<str:identity>/local-list/push/", views.charger_local_list_push, name="charger_locallist_push"),
]
