"""Wallet pages under /wallets/: a driver's own statement (and CSV); for staff, every wallet's
statement and CSV, and adjustments/refunds by admins. Group wallet pages are in views_groups."""

import csv
import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import CAN_MOVE_MONEY, CAN_VIEW_MONEY, role_required, user_has_role
from apps.core.money import quantize
from apps.wallets import selectors, services
from apps.wallets.models import GroupMember, LedgerAccount

CSV_HEADER = ["line", "date_utc", "kind", "amount", "currency", "balance_after", "memo", "cdr_id", "member", "by"]


class PeriodForm(forms.Form):
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def period(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: data.get(k) if isinstance(data.get(k), dt.date) else None for k in ("date_from", "date_to")}


class MoveMoneyForm(forms.Form):
    action = forms.ChoiceField(choices=[("adjust", "Adjustment (+/-)"), ("refund", "Refund (credit)")])
    amount = forms.DecimalField(max_digits=18, decimal_places=4)
    reason = forms.CharField(max_length=255)
    # Rendered once per form: a double-submitted form moves the money once.
    key = forms.CharField(widget=forms.HiddenInput)


class _Echo:
    def write(self, value):
        return value


def _csv_rows(rows):
    writer = csv.writer(_Echo())
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


@role_required(CAN_VIEW_MONEY)
def account_list(request):
    search = request.GET.get("q", "").strip()
    accounts = Paginator(selectors.accounts_list(search=search), 50).get_page(request.GET.get("page"))
    return render(request, "wallets/account_list.html", {"accounts": accounts, "q": search})


@role_required(CAN_VIEW_MONEY)
def account_detail(request, pk):
    account = get_object_or_404(LedgerAccount, pk=pk)
    context = _statement_context(request, account)
    if user_has_role(request.user, CAN_MOVE_MONEY) and account.is_wallet:
        context["move_form"] = MoveMoneyForm(initial={"key": services.new_key()})
    return render(request, "wallets/account_detail.html", context)


@role_required(CAN_VIEW_MONEY)
def account_export(request, pk):
    account = get_object_or_404(LedgerAccount, pk=pk)
    period = PeriodForm(request.GET).period()
    return statement_csv(selectors.statement_rows(account=account, **period), f"account-{account.pk}.csv")


@require_POST
@role_required(CAN_MOVE_MONEY)
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
