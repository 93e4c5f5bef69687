from celery import shared_task

from apps.fx import services


@shared_task(name="fx.fetch_ecb_rates", soft_time_limit=60, time_limit=90)
def fetch_ecb_rates() -> None:
    """Daily, after the ECB's ~16:00 CET publication. Rates live in the public schema, so the
    task works the same from beat (public) or from an organisation's schema."""
    services.exchange_rates_fetch_ecb()
