"""Writes for users and API tokens."""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import schema_context

from apps.accounts.models import ADMIN_ROLES, TENANT_ROLES, ApiToken, Role, User
from apps.core.tenancy import current_tenant

TOKEN_PREFIX = "evz_"


def _is_public_schema() -> bool:
    return connection.schema_name == settings.PUBLIC_SCHEMA_NAME


def _check_role_for_schema(role: str) -> None:
    if _is_public_schema() and role != Role.PLATFORM_STAFF:
        raise ValidationError({"role": "Only platform staff accounts live on the platform site."})
    if not _is_public_schema() and role not in TENANT_ROLES:
        raise ValidationError({"role": "Platform staff accounts cannot belong to an organisation."})


def _apply_role(user: User, role: str) -> None:
    user.role = role
    # Admins manage their own schema in the Django admin; everybody else uses the portal.
    user.is_staff = role in ADMIN_ROLES
    user.is_superuser = role in ADMIN_ROLES


@transaction.atomic
def user_create(
    *,
    email: str,
    role: str,
    full_name: str = "",
    password: str | None = None,
    invite: bool = True,
    base_url: str | None = None,
) -> User:
    """Create a user in the current schema; without a password they receive an invitation."""
    _check_role_for_schema(role)
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "A user with this e-mail address already exists."})
    user = User(email=email, full_name=full_name)
    _apply_role(user, role)
    user.set_password(password)
    if password is None and invite:
        user.invited_at = timezone.now()
    user.full_clean(exclude=["password"])
    user.save()
    if password is None and invite:
        # on_commit may fire after the caller's schema_context has ended, and the task is
        # routed to the schema current when it is queued: pin the schema.
        schema = connection.schema_name

        def queue():
            from apps.accounts.tasks import send_invitation

            with schema_context(schema):
                send_invitation.delay(user.pk, base_url)

        transaction.on_commit(queue)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    role: str | None = None,
    full_name: str | None = None,
    is_active: bool | None = None,
    phone: str | None = None,
) -> User:
    if role is not None:
        _check_role_for_schema(role)
        _apply_role(user, role)
    if full_name is not None:
        user.full_name = full_name
    if phone is not None:
        user.phone = phone
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.save()
    return user


def _site_base_url() -> str:
    """Absolute URL of the current schema's primary domain (for links in e-mails)."""
    org = current_tenant()
    domain = org.primary_domain if org is not None else None
    host = domain.domain if domain else settings.BASE_DOMAIN
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{host}{port}"


def invitation_link(user: User, base_url: str | None = None) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:invitation", kwargs={"uidb64": uid, "token": token})
    return f"{base_url or _site_base_url()}{path}"


def user_send_invitation(*, user: User, base_url: str | None = None) -> None:
    org = current_tenant()
    org_name = org.name if org is not None and not org.is_public else "EVzone"
    context = {"user": user, "link": invitation_link(user, base_url), "organization_name": org_name}
    send_mail(
        subject=f"You are invited to {org_name} on EVzone",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    User.objects.filter(pk=user.pk).update(invited_at=timezone.now())


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Return the token and its key. The key is not stored and cannot be shown again."""
    if not user.is_active:
        raise ValidationError("Inactive users cannot have API tokens.")
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API token",
        prefix=key[: len(TOKEN_PREFIX) + 6],
        digest=_digest(key),
        expires_at=expires_at,
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    # Conditional update: revoking twice keeps the first timestamp.
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_authenticate(*, key: str) -> ApiToken | None:
    token = ApiToken.objects.select_related("user").filter(digest=_digest(key)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    # Write last-use at most once a minute: API scripts poll and this is a hot path.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
