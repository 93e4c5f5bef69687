from celery import shared_task

from apps.accounts import services
from apps.accounts.models import User


@shared_task(
    name="accounts.send_invitation",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_invitation(user_id: int, base_url: str | None = None) -> None:
    """Runs in the schema it was queued from (tenant-schemas-celery); SMTP stays off the request path."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None and user.invitation_pending:
        services.user_send_invitation(user=user, base_url=base_url)
