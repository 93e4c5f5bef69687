from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Charging never imports payments: payments plugs itself in here (docs/events.md).
        from apps.payments import subscribers

        subscribers.connect()
