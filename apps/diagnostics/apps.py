from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "apps.diagnostics"
    label = "diagnostics"
    verbose_name = "Diagnostics, monitoring and display messages"
