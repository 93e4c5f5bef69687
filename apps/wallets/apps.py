from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "apps.wallets"
    label = "wallets"
    verbose_name = "Wallets"

    def ready(self) -> None:
        # Charging never imports wallets: wallets plugs itself in here (docs/events.md).
        from apps.wallets import hooks

        hooks.connect()
