"""Wallet pages under /wallets/: a driver's own statement (and CSV); for staff, every wallet's
statement and CSV, and adjustments/refunds by admins.

Group wallets for drivers: create, members and invitations, limits, usage (members see
their own, the owner and members allowed to see everyone), monthly statements per member.

Topping up a wallet by card in the browser: choose the amount, enter the card in the
gateway's own form (Stripe Payment Element / Adyen Drop-in), then wait for the gateway's
webhook, which alone credits the wallet (apps.payments.services.events)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.core import exports
from apps.core.money import quantize
from apps.payments import gateways
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment
from apps.payments.selectors import gateway_config
from apps.payments.services import payment_checkout_resume, payment_topup_start
from apps.payments.services.sessions import REFERENCE_PLACEHOLDER
from apps.portal.wallets.forms import GroupForm, InviteForm, MemberForm, MoveMoneyForm, PeriodForm, TopupForm
from apps.wallets import groups, selectors, services
from apps.wallets.models import GroupMember, GroupWallet, LedgerAccount
from apps.wallets.services import wallet_get_or_create

CSV_HEADER = ["line", "date_utc", "kind", "amount", "currency", "balance_after", "memo", "cdr_id", "member", "by"]


class _Echo:
    def write(self, value):
        return value


def _csv_rows(rows):
    writer = exports.csv_writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for line, running in rows:
        e = line.entry
        yield writer.writerow(
            [
                line.pk,
                e.created_at.isoformat(),
                e.kind,
                quantize(line.amount, line.currency),
                line.currency,
                quantize(running, line.currency),
                e.memo,
                e.cdr.cdr_id if e.cdr_id else "",
                e.member.email if e.member_id else "",
                e.created_by.email if e.created_by_id else "",
            ]
        )


def statement_csv(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _statement_context(request, account, member=None) -> dict:
    form = PeriodForm(request.GET)
    lines = selectors.statement_lines(account=account, member=member, **form.period())
    page = Paginator(lines, 100).get_page(request.GET.get("page"))
    return {"account": account, "rows": page, "form": form, "query": request.GET.urlencode()}


def my_wallet(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    account = selectors.wallet_for_user(user=request.user)
    memberships = GroupMember.objects.filter(user=request.user, status=GroupMember.Status.ACTIVE).select_related(
        "group__account"
    )
    context = _statement_context(request, account) if account else {"account": None}
    context["memberships"] = memberships
    return render(request, "wallets/my_wallet.html", context)


def my_wallet_export(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    account = selectors.wallet_for_user(user=request.user)
    if account is None:
        raise PermissionDenied
    period = PeriodForm(request.GET).period()
    return statement_csv(selectors.statement_rows(account=account, **period), "wallet.csv")


@role_required("money.view")
def account_list(request):
    search = request.GET.get("q", "").strip()
    accounts = Paginator(selectors.accounts_list(search=search), 50).get_page(request.GET.get("page"))
    return render(request, "wallets/account_list.html", {"accounts": accounts, "q": search})


@role_required("money.view")
def account_detail(request, pk):
    account = get_object_or_404(LedgerAccount, pk=pk)
    context = _statement_context(request, account)
    if allowed(request.user, "money.move") and account.is_wallet:
        context["move_form"] = MoveMoneyForm(initial={"key": services.new_key()})
    return render(request, "wallets/account_detail.html", context)


@role_required("money.view")
def account_export(request, pk):
    account = get_object_or_404(LedgerAccount, pk=pk)
    period = PeriodForm(request.GET).period()
    return statement_csv(selectors.statement_rows(account=account, **period), f"account-{account.pk}.csv")


@require_POST
@role_required("money.move")
def account_move(request, pk):
    account = get_object_or_404(LedgerAccount, pk=pk, kind__in=LedgerAccount.WALLET_KINDS)
    form = MoveMoneyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("wallets:account_detail", pk=pk)
    data = form.cleaned_data
    service = services.wallet_adjust if data["action"] == "adjust" else services.wallet_refund
    try:
        entry = service(
            account=account,
            amount=data["amount"],
            reason=data["reason"],
            user=request.user,
            idempotency_key=data["key"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{entry.get_kind_display()} booked.")
    return redirect("wallets:account_detail", pk=pk)


def _month(request) -> dt.date:
    try:
        return dt.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return dt.date.today().replace(day=1)


def _group_for_member(request, pk) -> GroupWallet:
    group = get_object_or_404(GroupWallet.objects.select_related("account", "owner"), pk=pk)
    # Not a member: the group does not exist as far as this user can tell.
    if selectors.group_membership(group=group, user=request.user) is None:
        raise Http404
    return group


@login_required
def group_list(request):
    if request.method == "POST":
        form = GroupForm(request.POST)
        if form.is_valid():
            group = groups.group_wallet_create(owner=request.user, name=form.cleaned_data["name"])
            return redirect("wallets:group_detail", pk=group.pk)
    else:
        form = GroupForm()
    memberships = GroupMember.objects.filter(user=request.user, status=GroupMember.Status.ACTIVE).select_related(
        "group__account"
    )
    return render(request, "wallets/group_list.html", {"memberships": memberships, "form": form})


@login_required
def group_detail(request, pk):
    group = _group_for_member(request, pk)
    see_all = selectors.group_may_see_all(group=group, user=request.user)
    member = None if see_all else request.user
    period = PeriodForm(request.GET)
    lines = selectors.statement_lines(account=group.account, member=member, **period.period())
    is_owner = groups.is_group_admin(group=group, user=request.user)
    month = _month(request)
    context = {
        "group": group,
        "rows": Paginator(lines, 100).get_page(request.GET.get("page")),
        "query": request.GET.urlencode(),
        "form": period,
        "see_all": see_all,
        "is_owner": is_owner,
        "may_top_up": selectors.group_may_top_up(group=group, user=request.user),
        "members": group.members.exclude(status=GroupMember.Status.REMOVED) if is_owner else None,
        "invite_form": InviteForm() if is_owner else None,
        "month": month,
        "month_usage": selectors.group_member_month_usage(group=group, month=month) if see_all else None,
    }
    return render(request, "wallets/group_detail.html", context)


@login_required
def group_statement_export(request, pk):
    """The monthly statement of one member (own usage; everyone's for those who see all)."""
    group = _group_for_member(request, pk)
    email = request.GET.get("member") or request.user.email
    if email.lower() != request.user.email.lower() and not selectors.group_may_see_all(group=group, user=request.user):
        raise PermissionDenied
    target = get_object_or_404(GroupMember, group=group, email__iexact=email, user__isnull=False).user
    first, last = selectors.month_bounds(_month(request))
    rows = selectors.statement_rows(account=group.account, member=target, date_from=first, date_to=last)
    return statement_csv(rows, f"group-{group.pk}-{first:%Y-%m}-{target.pk}.csv")


@require_POST
@login_required
def member_invite(request, pk):
    group = _group_for_member(request, pk)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("wallets:group_detail", pk=pk)
    data = dict(form.cleaned_data)
    locations = data.pop("allowed_locations")
    try:
        member, _ = groups.group_member_invite(group=group, invited_by=request.user, **data)
        member.allowed_locations.set(locations)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Invitation sent to {member.email}.")
    return redirect("wallets:group_detail", pk=pk)


@require_POST
@login_required
def member_update(request, pk):
    member = get_object_or_404(GroupMember, pk=pk)
    group = _group_for_member(request, member.group_id)
    form = MemberForm(request.POST, instance=GroupMember.objects.get(pk=pk))
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            groups.group_member_update(
                member=member, changed_by=request.user, allowed_locations=data.pop("allowed_locations"), **data
            )
            messages.success(request, "Member settings saved.")
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("wallets:group_detail", pk=group.pk)


@require_POST
@login_required
def member_remove(request, pk):
    member = get_object_or_404(GroupMember, pk=pk)
    _group_for_member(request, member.group_id)
    try:
        groups.group_member_remove(member=member, removed_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("wallets:group_list")


@login_required
def member_accept(request, secret):
    if request.method == "POST":
        try:
            member = groups.group_member_accept(secret=secret, user=request.user)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect("wallets:group_list")
        return redirect("wallets:group_detail", pk=member.group_id)
    return render(request, "wallets/group_accept.html")


def topup(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    card = gateways.client_settings(gateway_config())
    form = TopupForm(request.POST or None, user=request.user, initial={"amount": "20"})
    if request.method == "POST" and card and form.is_valid():
        choice = form.cleaned_data["account"]
        if choice == "own":
            account = wallet_get_or_create(user=request.user)
        else:
            account = get_object_or_404(LedgerAccount, pk=int(choice))
        try:
            payment = payment_topup_start(
                account=account,
                amount=form.cleaned_data["amount"],
                user=request.user,
                browser=True,
                return_url=request.build_absolute_uri(reverse("wallets:topup_pay", args=[REFERENCE_PLACEHOLDER])),
            )
        except (ValidationError, PermissionDenied, LookupError, GatewayUnavailable) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            if payment.status == Payment.Status.FAILED:
                messages.error(request, payment.last_error or "The gateway refused the payment.")
            else:
                # Kept in the signed-in session only (never in the database) for this page.
                request.session[f"checkout:{payment.merchant_reference}"] = {
                    "client_secret": payment.client_secret,
                    "session": (payment.client_action or {}).get("session"),
                }
                return redirect("wallets:topup_pay", reference=payment.merchant_reference)
    return render(request, "wallets/topup.html", {"form": form, "card": card})


def topup_pay(request, reference):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    payment = get_object_or_404(Payment, merchant_reference=reference, kind=Payment.Kind.TOPUP, user=request.user)
    context = {"payment": payment}
    card = gateways.client_settings(gateway_config())
    if payment.status == Payment.Status.PENDING and card:
        return_url = request.build_absolute_uri(reverse("wallets:topup_pay", args=[reference]))
        stored = request.session.get(f"checkout:{reference}")
        if not stored or not (stored.get("client_secret") or stored.get("session")):
            try:
                resumed = payment_checkout_resume(payment=payment, return_url=return_url)
            except (LookupError, GatewayUnavailable):
                resumed = None
            stored = {
                "client_secret": getattr(resumed, "client_secret", ""),
                "session": ((getattr(resumed, "client_action", None)) or {}).get("session"),
            }
        context["checkout"] = {
            **card,
            **stored,
            "return_url": return_url,
            "status_url": reverse("payments:payment_status", args=[reference]),
        }
    return render(request, "wallets/topup_pay.html", context)
