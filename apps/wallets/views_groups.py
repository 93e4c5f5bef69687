"""Group wallet pages for drivers: create, members and invitations, limits, usage (members see
their own, the owner and members allowed to see everyone), monthly statements per member."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.wallets import groups, selectors
from apps.wallets.models import GroupMember, GroupWallet
from apps.wallets.views import PeriodForm, statement_csv


class GroupForm(forms.Form):
    name = forms.CharField(max_length=120)


class MemberForm(forms.ModelForm):
    class Meta:
        model = GroupMember
        fields = [
            "can_top_up",
            "can_see_all_usage",
            "pays_sessions",
            "limit_per_session",
            "limit_per_day",
            "limit_per_month",
            "allowed_locations",
            "allowed_from",
            "allowed_until",
        ]
        widgets = {
            "allowed_from": forms.TimeInput(attrs={"type": "time"}),
            "allowed_until": forms.TimeInput(attrs={"type": "time"}),
        }


class InviteForm(MemberForm):
    email = forms.EmailField()

    class Meta(MemberForm.Meta):
        fields = ["email", *MemberForm.Meta.fields]


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
