from django.apps import AppConfig


class CsmsConfig(AppConfig):
    name = "apps.csms"
    label = "csms"
    verbose_name = "OCPP central system"
