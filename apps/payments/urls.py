"""Mounted at payments/ in config/urls_tenant.py: path("payments/", include("apps.payments.urls"))."""

from django.urls import path

from apps.payments import views, webhooks

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/adyen/", webhooks.adyen_webhook, name="adyen_webhook"),
    path("", views.payment_list, name="payment_list"),
    path("<int:pk>/", views.payment_detail, name="payment_detail"),
    path("<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path("<int:pk>/capture/", views.payment_capture_retry, name="payment_capture_retry"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/export.csv", views.reconciliation_export, name="reconciliation_export"),
    path("settings/", views.gateway_settings, name="gateway_settings"),
]
