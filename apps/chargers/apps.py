from django.apps import AppConfig


class ChargersConfig(AppConfig):
    name = "apps.chargers"
    label = "chargers"
    verbose_name = "Chargers"
