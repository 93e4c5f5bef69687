from django.apps import AppConfig


class CsmsConfig(AppConfig):
    name = "apps.csms"
    label = "csms"
    verbose_name = "OCPP central system"

    def ready(self) -> None:
        from apps.core.demo import DEMO_SEEDERS
        from apps.csms.demo import seed_csms

        DEMO_SEEDERS.append(seed_csms)
