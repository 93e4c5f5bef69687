from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Charging never imports billing: billing plugs itself in here (docs/events.md).
        from apps.billing import subscribers

        subscribers.connect()
