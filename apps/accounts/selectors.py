"""Reads about an organisation's users and API tokens (the dashboard's figures)."""

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.accounts.models import ApiToken, Role, User


def dashboard_figures(*, reseller: bool) -> dict:
    """The user and token figures of the current schema's organisation (a reseller has no
    operator admins, an operator no reseller admins)."""
    now = timezone.now()
    users = User.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        drivers=Count("id", filter=Q(role=Role.DRIVER)),
        staff=Count("id", filter=~Q(role=Role.DRIVER)),
        pending=Count("id", filter=Q(last_login__isnull=True, password__startswith="!")),
        seen_week=Count("id", filter=Q(last_login__gte=now - timedelta(days=7))),
    )
    by_role = dict(User.objects.values_list("role").annotate(n=Count("id")))
    # Only the roles that can exist in this kind of organisation.
    hidden = {
        Role.PLATFORM_STAFF,
        Role.OPERATOR_ADMIN if reseller else Role.RESELLER_ADMIN,
    }
    roles = [{"role": r.label, "count": by_role.get(r.value, 0)} for r in Role if r not in hidden]
    # Sign-ups per day for the last 30 days, for the chart.
    since = (now - timedelta(days=29)).replace(hour=0, minute=0, second=0, microsecond=0)
    per_day = dict(
        User.objects.filter(date_joined__gte=since)
        .annotate(day=TruncDate("date_joined"))
        .values_list("day")
        .annotate(n=Count("id"))
    )
    signups = [
        {
            "day": (since + timedelta(days=i)).date().isoformat(),
            "count": per_day.get((since + timedelta(days=i)).date(), 0),
        }
        for i in range(30)
    ]
    return {
        "users": users,
        "roles": roles,
        "signups": signups,
        "active_tokens": ApiToken.objects.filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count(),
        "recent_users": list(User.objects.order_by("-date_joined")[:5]),
    }
