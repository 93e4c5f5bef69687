from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "apps.portal"
    label = "portal"
    verbose_name = "Operator portal"

    def ready(self) -> None:
        from apps.portal import demo  # noqa: F401  (registers the demo network seeder)
