from django.apps import AppConfig


class SmartchargingConfig(AppConfig):
    name = "apps.smartcharging"
    label = "smartcharging"
    verbose_name = "Smart charging and firmware"
