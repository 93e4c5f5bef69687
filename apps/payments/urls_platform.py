"""Webhooks of the platform's own gateway account, on the platform host. Mounted in
config/urls_public.py: path("payments/webhooks/platform/", include("apps.payments.urls_platform"))."""

from django.urls import path

from apps.payments import webhooks

app_name = "payments_platform"

urlpatterns = [
    path("stripe/", webhooks.platform_stripe_webhook, name="stripe_webhook"),
    path("adyen/", webhooks.platform_adyen_webhook, name="adyen_webhook"),
]
