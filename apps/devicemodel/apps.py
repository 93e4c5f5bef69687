from django.apps import AppConfig


class DevicemodelConfig(AppConfig):
    name = "apps.devicemodel"
    label = "devicemodel"
    verbose_name = "Device model (OCPP 2.x)"
