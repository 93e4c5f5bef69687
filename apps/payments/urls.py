"""The payment gateways' webhooks on an organisation's domain: machine endpoints, so they stay
with the payments app. apps/portal/payments/urls.py mounts them in the "payments" namespace,
at payments/ (config/urls_tenant.py), beside the payment pages."""

from django.urls import path

from apps.payments import webhooks

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/adyen/", webhooks.adyen_webhook, name="adyen_webhook"),
    # The platform's shared account (also mounted on the platform host: apps/payments/urls_platform.py).
    path("webhooks/platform/stripe/", webhooks.platform_stripe_webhook, name="platform_stripe_webhook"),
    path("webhooks/platform/adyen/", webhooks.platform_adyen_webhook, name="platform_adyen_webhook"),
]
