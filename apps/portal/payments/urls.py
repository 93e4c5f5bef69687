"""Mounted at payments/ in config/urls_tenant.py: path("payments/", include("apps.portal.payments.urls"))."""

from django.urls import path

from apps.payments import urls as webhooks
from apps.portal.payments import views

app_name = "payments"

urlpatterns = [
    *webhooks.urlpatterns,
    path("status/<str:reference>/", views.payment_status, name="payment_status"),
    # The driver's own: cards on file and their card payments per session.
    path("cards/", views.my_cards, name="my_cards"),
    path("cards/add/", views.card_add, name="card_add"),
    path("cards/preference/", views.card_preference, name="card_preference"),
    path("cards/setup/<str:reference>/", views.card_setup, name="card_setup"),
    path("cards/setup/<str:reference>/status/", views.card_status, name="card_status"),
    path("cards/<int:pk>/default/", views.card_default, name="card_default"),
    path("cards/<int:pk>/remove/", views.card_remove, name="card_remove"),
    path("my/", views.my_payments, name="my_payments"),
    path("", views.payment_list, name="payment_list"),
    path("<int:pk>/", views.payment_detail, name="payment_detail"),
    path("<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path("<int:pk>/capture/", views.payment_capture_retry, name="payment_capture_retry"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/export.csv", views.reconciliation_export, name="reconciliation_export"),
    path("settings/", views.gateway_settings, name="gateway_settings"),
]
