from django.apps import AppConfig


def _on_hold_authorized(sender, payment_id: int, **kwargs) -> None:
    # Imported when needed: loading the command bus at start-up would pull in every OCPP handler.
    from apps.qr.guest import on_hold_authorized

    on_hold_authorized(sender, payment_id=payment_id, **kwargs)


class QrConfig(AppConfig):
    name = "apps.qr"
    label = "qr"
    verbose_name = "QR code start"

    def ready(self):
        from apps.payments.signals import hold_authorized

        # A guest's session starts when its card hold is authorised (webhook or confirmation).
        hold_authorized.connect(_on_hold_authorized, dispatch_uid="qr.guest_start")
