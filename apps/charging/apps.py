from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "apps.charging"
    label = "charging"
    verbose_name = "Charging"

    def ready(self) -> None:
        from apps.charging.demo import seed_cards
        from apps.core.demo import DEMO_SEEDERS

        DEMO_SEEDERS.append(seed_cards)
