"""Firmware campaign fan-out (runs in the schema it was queued from)."""

from celery import shared_task

from apps.accounts.models import User
from apps.smartcharging.firmware import firmware_campaign_fan_out, firmware_update_send_pending


@shared_task(name="smartcharging.firmware_campaign_send", soft_time_limit=60, time_limit=90, ignore_result=True)
def firmware_campaign_send(campaign_id: int, user_id: int | None = None) -> int:
    return firmware_campaign_fan_out(campaign_id=campaign_id, user_id=user_id)


@shared_task(name="smartcharging.firmware_update_send", soft_time_limit=90, time_limit=120, ignore_result=True)
def firmware_update_send_task(update_id: int, user_id: int | None = None) -> str:
    user = None
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first()
    return firmware_update_send_pending(update_id=update_id, user=user)
