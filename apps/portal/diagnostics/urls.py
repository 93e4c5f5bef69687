"""Portal pages for Diagnostics, monitoring and display messages, mounted in the portal namespace."""

from django.urls import path

from apps.portal.diagnostics import views

urlpatterns: list = [
    path("chargers/<str:identity>/diagnostics/", views.diagnostics, name="diagnostics"),
    path("chargers/<str:identity>/diagnostics/log/", views.log_request, name="diagnostics_log_request"),
    path("chargers/<str:identity>/diagnostics/log/<int:pk>/file/", views.log_download, name="diagnostics_log_download"),
    path(
        "chargers/<str:identity>/diagnostics/events/<int:pk>/acknowledge/",
        views.event_acknowledge,
        name="diagnostics_event_acknowledge",
    ),
    path("chargers/<str:identity>/diagnostics/settings/", views.diagnostics_settings, name="diagnostics_settings"),
    path("chargers/<str:identity>/monitoring/", views.monitoring, name="monitoring"),
    path("chargers/<str:identity>/monitoring/command/", views.monitoring_command, name="monitoring_command"),
    path("chargers/<str:identity>/customer-information/", views.customer_information, name="customer_information"),
    path("chargers/<str:identity>/display-messages/", views.display_messages, name="display_messages"),
    path(
        "cards/<int:pk>/customer-information/",
        views.token_customer_information,
        name="token_customer_information",
    ),
    path("locations/<int:pk>/display-message/", views.location_display_message, name="location_display_message"),
]
