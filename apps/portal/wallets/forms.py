"""Wallet page forms: statement period, money moves, group wallets and their members, top-up."""

import datetime as dt
from decimal import Decimal

from django import forms

from apps.wallets.models import GroupMember
from apps.wallets.selectors import group_may_top_up, wallet_for_user

MIN_TOPUP, MAX_TOPUP = Decimal("5"), Decimal("500")


def _accounts(user) -> list:
    """The wallets this driver may top up: their own, and group wallets that allow it."""
    own = wallet_for_user(user=user)
    accounts = [("own", f"My wallet{f' ({own.balance} {own.currency})' if own else ''}")]
    for m in GroupMember.objects.filter(user=user, status=GroupMember.Status.ACTIVE).select_related("group__account"):
        if group_may_top_up(group=m.group, user=user):
            accounts.append((str(m.group.account_id), f"Group wallet {m.group.name}"))
    return accounts


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


class TopupForm(forms.Form):
    account = forms.ChoiceField()
    amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=MIN_TOPUP, max_value=MAX_TOPUP)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = _accounts(user)
