"""Reads for wallets: which wallet pays, balances derived from the ledger, statements, usage,
and the authorisation check the OCPP side calls before a session starts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from apps.charging.models import IdToken
from apps.tenants.models import Organization
from apps.wallets.models import GroupMember, JournalEntry, JournalLine, LedgerAccount, WalletSettings
from apps.wallets.payers import other_payer

ZERO = Decimal(0)


def organization_currency() -> str:
    return Organization.objects.values_list("currency", flat=True).get(schema_name=connection.schema_name)


def organization_timezone() -> str:
    return Organization.objects.values_list("timezone", flat=True).get(schema_name=connection.schema_name)


def wallet_settings() -> WalletSettings:
    return WalletSettings.objects.order_by("pk").first() or WalletSettings()


def wallet_for_user(*, user, currency: str | None = None) -> LedgerAccount | None:
    currency = currency or organization_currency()
    return LedgerAccount.objects.filter(kind=LedgerAccount.Kind.DRIVER_WALLET, owner=user, currency=currency).first()


def membership_paying(*, user) -> GroupMember | None:
    """The group membership that pays this driver's sessions, if any."""
    if user is None:
        return None
    return (
        GroupMember.objects.select_related("group__account")
        .filter(user=user, status=GroupMember.Status.ACTIVE, pays_sessions=True)
        .first()
    )


def paying_account(*, user) -> tuple[LedgerAccount | None, GroupMember | None]:
    """The account a driver's session is charged to: their paying group wallet, else their own."""
    membership = membership_paying(user=user)
    if membership is not None:
        return membership.group.account, membership
    return (wallet_for_user(user=user) if user is not None else None), None


def balance_derived(*, account: LedgerAccount) -> Decimal:
    return JournalLine.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or ZERO


def _lines(*, account, member, date_from, date_to) -> QuerySet[JournalLine]:
    qs = JournalLine.objects.filter(account=account).select_related(
        "entry__member", "entry__created_by", "entry__cdr", "entry__transaction"
    )
    if member is not None:
        qs = qs.filter(entry__member=member)
    if date_from:
        qs = qs.filter(entry__created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(entry__created_at__date__lte=date_to)
    return qs


def _balance_after():
    return Subquery(
        JournalLine.objects.filter(account_id=OuterRef("account_id"), id__lte=OuterRef("id"))
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )


def statement_lines(
    *,
    account: LedgerAccount,
    member=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[JournalLine]:
    """Newest first, each line with `balance_after`: the account's balance after it, counting
    every line of the account (a statement filtered by member or period shows true balances).
    One indexed range sum per row: for pages; exports use `statement_rows`."""
    qs = _lines(account=account, member=member, date_from=date_from, date_to=date_to)
    return qs.annotate(balance_after=_balance_after()).order_by("-id")


def statement_rows(
    *,
    account: LedgerAccount,
    member=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Iterator[tuple[JournalLine, Decimal]]:
    """(line, balance after) oldest first, streamed for exports of any length."""
    qs = _lines(account=account, member=member, date_from=date_from, date_to=date_to).order_by("id")
    if member is not None:  # another member's lines interleave: a sum per row (a month is short)
        for line in qs.annotate(balance_after=_balance_after()).iterator(chunk_size=500):
            yield line, line.balance_after
        return
    running = None
    for line in qs.iterator(chunk_size=500):
        if running is None:  # one sum for everything before the period, then a running total
            before = JournalLine.objects.filter(account=account, id__lt=line.id).aggregate(s=Sum("amount"))["s"]
            running = before or ZERO
        running += line.amount
        yield line, running


def member_usage(*, account: LedgerAccount, user, since: dt.datetime) -> Decimal:
    """What a member's sessions cost the group wallet since `since` (positive)."""
    spent = JournalLine.objects.filter(
        account=account,
        entry__member=user,
        entry__kind__in=[JournalEntry.Kind.SESSION_DEBIT, JournalEntry.Kind.SESSION_CREDIT],
        entry__created_at__gte=since,
    ).aggregate(s=Sum("amount"))["s"]
    return -(spent or ZERO)


@dataclass(frozen=True)
class Authorization:
    allowed: bool
    reason: str
    account: LedgerAccount | None = None
    balance: Decimal = ZERO
    # The most this session may cost (balance and the member's remaining limits): what a
    # "stop when exhausted" watcher compares the running cost with.
    available: Decimal = ZERO


def _in_hours(member: GroupMember, local: dt.datetime) -> bool:
    start, end = member.allowed_from, member.allowed_until
    if start is None or end is None:
        return True
    now = local.time()
    return start <= now < end if start <= end else (now >= start or now < end)


def wallet_authorization(*, user, location_id: int | None = None, at: dt.datetime | None = None) -> Authorization:
    """May this driver start a session paid from a wallet? The balance must reach the
    organisation's minimum; a group member must also be within their limits, locations and hours."""
    at = at or timezone.now()

    # A card on file that pays this driver's sessions (README "Which pays a driver's session"):
    # no wallet rule applies, and with no account the wallet guard never stops the session.
    payer = other_payer(user=user)
    if payer is not None:
        return Authorization(True, payer)
    account, member = paying_account(user=user)
    if account is None:
        if user is not None and wallet_settings().require_payment_means:
            return Authorization(False, "no payment means")
        return Authorization(False, "no wallet")
    minimum = wallet_settings().min_start_balance
    balance = account.balance
    available = balance
    if member is not None:
        local = at.astimezone(zoneinfo.ZoneInfo(organization_timezone()))
        if not _in_hours(member, local):
            return Authorization(False, "outside allowed hours", account, balance)
        if location_id is not None and member.allowed_locations.exists():
            if not member.allowed_locations.filter(pk=location_id).exists():
                return Authorization(False, "location not allowed", account, balance)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        limits = [member.limit_per_session]
        if member.limit_per_day is not None:
            limits.append(member.limit_per_day - member_usage(account=account, user=user, since=day_start))
        if member.limit_per_month is not None:
            month_start = day_start.replace(day=1)
            limits.append(member.limit_per_month - member_usage(account=account, user=user, since=month_start))
        for limit in limits:
            if limit is not None:
                available = min(available, limit)
        if available <= 0:
            return Authorization(False, "member limit reached", account, balance, ZERO)
    if balance < minimum or balance <= 0:
        return Authorization(False, "balance below minimum", account, balance, max(available, ZERO))
    return Authorization(True, "ok", account, balance, available)


def wallet_should_stop(*, user, running_cost: Decimal, location_id: int | None = None) -> bool:
    """Whether a wallet-paid session in progress has used up what it may cost (balance and the
    member's limits; the session is debited only at its end, so the balance is still the one
    it started with) and the organisation wants such sessions stopped remotely."""
    if not wallet_settings().stop_when_exhausted:
        return False
    result = wallet_authorization(user=user, location_id=location_id)
    if result.account is None:
        return False  # not paid from a wallet
    return running_cost >= result.available


def wallet_authorization_for_id_tag(*, id_tag: str, location_id: int | None = None) -> Authorization:
    """The same check for an OCPP idTag (case-insensitive, as CiString)."""

    token = IdToken.objects.select_related("owner").filter(id_token__iexact=id_tag).first()
    if token is None or token.owner is None:
        return Authorization(False, "token has no driver")
    return wallet_authorization(user=token.owner, location_id=location_id)


def accounts_list(*, search: str = "") -> QuerySet[LedgerAccount]:
    qs = LedgerAccount.objects.select_related("owner", "group_wallet")
    if search:
        qs = qs.filter(Q(owner__email__icontains=search) | Q(name__icontains=search))
    return qs.order_by("kind", "id")


def group_membership(*, group, user) -> GroupMember | None:
    return GroupMember.objects.filter(group=group, user=user, status=GroupMember.Status.ACTIVE).first()


def group_may_see_all(*, group, user) -> bool:
    member = group_membership(group=group, user=user)
    return group.owner_id == user.pk or bool(member and member.can_see_all_usage)


def group_may_top_up(*, group, user) -> bool:
    member = group_membership(group=group, user=user)
    return group.owner_id == user.pk or bool(member and member.can_top_up)


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def group_member_month_usage(*, group, month: dt.date) -> list[dict]:
    """Per member: sessions and cost in the month (for the owner's monthly statement)."""
    first, last = month_bounds(month)
    rows = (
        JournalLine.objects.filter(
            account=group.account,
            entry__member__isnull=False,
            entry__created_at__date__gte=first,
            entry__created_at__date__lte=last,
        )
        .values("entry__member__email")
        .annotate(total=Sum("amount"), sessions=Count("id"))
        .order_by("entry__member__email")
    )
    return [{"email": r["entry__member__email"], "cost": -r["total"], "sessions": r["sessions"]} for r in rows]
