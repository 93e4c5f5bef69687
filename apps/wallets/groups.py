"""Writes for group (family/fleet) wallets: create, invite by e-mail, accept, remove, limits.
Money moves through apps.wallets.services like any wallet; each session debit records the member."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.tenants.models import Domain
from apps.wallets.models import GroupMember, GroupWallet, LedgerAccount
from apps.wallets.selectors import organization_currency

LIMIT_FIELDS = (
    "can_top_up",
    "can_see_all_usage",
    "pays_sessions",
    "limit_per_session",
    "limit_per_day",
    "limit_per_month",
    "allowed_from",
    "allowed_until",
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_group_admin(*, group: GroupWallet, user) -> bool:
    return user is not None and group.owner_id == user.pk


@transaction.atomic
def group_wallet_create(*, owner, name: str) -> GroupWallet:
    currency = organization_currency()
    account = LedgerAccount.objects.create(kind=LedgerAccount.Kind.GROUP_WALLET, currency=currency, name=name)
    group = GroupWallet.objects.create(name=name, owner=owner, account=account)
    # The owner is a member who may do everything; their sessions stay on their own wallet
    # unless they choose otherwise.
    GroupMember.objects.create(
        group=group,
        email=owner.email,
        user=owner,
        status=GroupMember.Status.ACTIVE,
        accepted_at=timezone.now(),
        can_top_up=True,
        can_see_all_usage=True,
        pays_sessions=False,
    )
    return group


def _accept_url(secret: str) -> str:
    domain = Domain.objects.get(tenant__schema_name=connection.schema_name, is_primary=True).domain
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{domain}{port}/wallets/groups/accept/{secret}/"


@transaction.atomic
def group_member_invite(*, group: GroupWallet, email: str, invited_by, **limits) -> tuple[GroupMember, str]:
    """Invite someone by e-mail. Returns the member and the invitation secret (also e-mailed)."""
    if not is_group_admin(group=group, user=invited_by):
        raise PermissionDenied("Only the owner invites members.")
    email = email.strip().lower()
    secret = secrets.token_urlsafe(32)
    fields = {k: v for k, v in limits.items() if k in LIMIT_FIELDS}
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(group=group, email=email, invite_digest=_digest(secret), **fields)
    except IntegrityError as exc:
        raise ValidationError({"email": "This person is already invited or a member."}) from exc
    url = _accept_url(secret)
    transaction.on_commit(
        lambda: send_mail(
            f"Join the wallet {group.name}",
            f"{group.owner} invites you to charge with the shared wallet {group.name}.\n\nAccept: {url}\n",
            None,
            [email],
        )
    )
    return member, secret


@transaction.atomic
def group_member_accept(*, secret: str, user) -> GroupMember:
    member = (
        GroupMember.objects.select_for_update()
        .filter(invite_digest=_digest(secret), status=GroupMember.Status.INVITED)
        .first()
    )
    if member is None:
        raise ValidationError("This invitation is not valid any more.")
    if member.email.lower() != user.email.lower():
        raise PermissionDenied("This invitation was sent to another e-mail address.")
    member.user, member.status, member.accepted_at, member.invite_digest = (
        user,
        GroupMember.Status.ACTIVE,
        timezone.now(),
        "",
    )
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise ValidationError("Your sessions are already paid by another group wallet; leave it first.") from exc
    return member


@transaction.atomic
def group_member_remove(*, member: GroupMember, removed_by) -> GroupMember:
    if not is_group_admin(group=member.group, user=removed_by) and member.user_id != removed_by.pk:
        raise PermissionDenied("Only the owner removes members (members may leave).")
    if member.user_id == member.group.owner_id:
        raise ValidationError("The owner cannot leave the group wallet.")
    member.status, member.removed_at, member.invite_digest = GroupMember.Status.REMOVED, timezone.now(), ""
    member.save(update_fields=["status", "removed_at", "invite_digest"])
    return member


@transaction.atomic
def group_member_update(*, member: GroupMember, changed_by, allowed_locations=None, **limits) -> GroupMember:
    if not is_group_admin(group=member.group, user=changed_by):
        raise PermissionDenied("Only the owner changes limits and permissions.")
    for name, value in limits.items():
        if name not in LIMIT_FIELDS:
            raise TypeError(f"unknown member setting {name}")
        setattr(member, name, value)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise ValidationError("This member's sessions are already paid by another group wallet.") from exc
    if allowed_locations is not None:
        member.allowed_locations.set(allowed_locations)
    return member
