from django.apps import AppConfig


class TariffsConfig(AppConfig):
    name = "apps.tariffs"
    label = "tariffs"
    verbose_name = "Tariffs"

    def ready(self) -> None:
        from apps.core.demo import DEMO_SEEDERS
        from apps.tariffs.demo import seed_tariff

        DEMO_SEEDERS.append(seed_tariff)
