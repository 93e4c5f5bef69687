"""RFID card (id token) pages and the driver's own charging, mounted in the portal namespace by
apps/portal/urls.py."""

from django.urls import path

from apps.portal.cards import views

urlpatterns = [
    path("cards/", views.token_list, name="idtoken_list"),
    path("cards/new/", views.token_edit, name="idtoken_create"),
    path("cards/import/", views.card_import, name="idtoken_import"),
    path("cards/export.<str:fmt>", views.card_export, name="idtoken_export"),
    path("cards/<int:pk>/", views.token_edit, name="idtoken_edit"),
    path("cards/<int:pk>/block/", views.token_block, name="idtoken_block"),
    path("my/charging/", views.driver_charging, name="driver_charging"),
]
