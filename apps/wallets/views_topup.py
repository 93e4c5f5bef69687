"""Topping up a wallet by card in the browser: choose the amount, enter the card in the
gateway's own form (Stripe Payment Element / Adyen Drop-in), then wait for the gateway's
webhook, which alone credits the wallet (apps.payments.services.events)."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from apps.payments import gateways
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment
from apps.payments.selectors import gateway_config
from apps.payments.services import payment_checkout_resume, payment_topup_start
from apps.payments.services.sessions import REFERENCE_PLACEHOLDER
from apps.wallets.models import GroupMember
from apps.wallets.selectors import group_may_top_up, wallet_for_user
from apps.wallets.services import wallet_get_or_create

MIN_TOPUP, MAX_TOPUP = Decimal("5"), Decimal("500")


def _accounts(user) -> list:
    """The wallets this driver may top up: their own, and group wallets that allow it."""
    own = wallet_for_user(user=user)
    accounts = [("own", f"My wallet{f' ({own.balance} {own.currency})' if own else ''}")]
    for m in GroupMember.objects.filter(user=user, status=GroupMember.Status.ACTIVE).select_related("group__account"):
        if group_may_top_up(group=m.group, user=user):
            accounts.append((str(m.group.account_id), f"Group wallet {m.group.name}"))
    return accounts


class TopupForm(forms.Form):
    account = forms.ChoiceField()
    amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=MIN_TOPUP, max_value=MAX_TOPUP)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = _accounts(user)


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
            from apps.wallets.models import LedgerAccount

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
