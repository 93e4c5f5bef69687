"""Mounted at payments/ in config/urls_tenant.py: path("payments/", include("apps.payments.urls"))."""

from django.urls import path

from apps.payments import views, views_cards, webhooks

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/adyen/", webhooks.adyen_webhook, name="adyen_webhook"),
    # The platform's shared account (also mounted on the platform host: apps/payments/urls_platform.py).
    path("webhooks/platform/stripe/", webhooks.platform_stripe_webhook, name="platform_stripe_webhook"),
    path("webhooks/platform/adyen/", webhooks.platform_adyen_webhook, name="platform_adyen_webhook"),
    path("status/<str:reference>/", views.payment_status, name="payment_status"),
    # The driver's own: cards on file and their card payments per session.
    path("cards/", views_cards.my_cards, name="my_cards"),
    path("cards/add/", views_cards.card_add, name="card_add"),
    path("cards/preference/", views_cards.card_preference, name="card_preference"),
    path("cards/setup/<str:reference>/", views_cards.card_setup, name="card_setup"),
    path("cards/setup/<str:reference>/status/", views_cards.card_status, name="card_status"),
    path("cards/<int:pk>/default/", views_cards.card_default, name="card_default"),
    path("cards/<int:pk>/remove/", views_cards.card_remove, name="card_remove"),
    path("my/", views_cards.my_payments, name="my_payments"),
    path("", views.payment_list, name="payment_list"),
    path("<int:pk>/", views.payment_detail, name="payment_detail"),
    path("<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path("<int:pk>/capture/", views.payment_capture_retry, name="payment_capture_retry"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/export.csv", views.reconciliation_export, name="reconciliation_export"),
    path("settings/", views.gateway_settings, name="gateway_settings"),
]
