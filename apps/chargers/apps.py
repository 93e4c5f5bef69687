from django.apps import AppConfig


class ChargersConfig(AppConfig):
    name = "apps.chargers"
    label = "chargers"
    verbose_name = "Chargers"

    def ready(self) -> None:
        from apps.chargers.demo import seed_network
        from apps.core.demo import DEMO_SEEDERS

        DEMO_SEEDERS.append(seed_network)
