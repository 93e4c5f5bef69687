"""A driver's cards on file (/payments/cards/): add one in the gateway's own form (Stripe
Payment Element on a SetupIntent / Adyen Drop-in on a zero-value session), choose the default,
remove (detached at the gateway), choose whether sessions are paid by card; and the driver's
card payments per session (/payments/my/): holds, captures, releases."""

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.payments import gateways, selectors, services
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import SavedCard
from apps.payments.services.sessions import REFERENCE_PLACEHOLDER


class PreferenceForm(forms.Form):
    by_card = forms.BooleanField(
        required=False,
        label="Pay my charging sessions with my default card",
        help_text="Off: your wallet pays when you have one; your card pays only when no wallet does.",
    )


def _signed_in(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _error(request, exc) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


@_signed_in
def my_cards(request):
    from apps.payments.models import SessionPaymentChoice

    config = selectors.gateway_config()
    cards = list(selectors.cards_for_user(user=request.user))
    for card in cards:
        card.usable = selectors.card_usable(card=card, config=config)
    choice = SessionPaymentChoice.objects.filter(user=request.user).first()
    paying = selectors.card_for_sessions(user=request.user)
    context = {
        "cards": cards,
        "card_entry": gateways.client_settings(config),
        "preference": PreferenceForm(initial={"by_card": bool(choice and choice.by_card)}),
        "paying_card": paying,
        "preauth": config.preauth_amount if config else None,
    }
    return render(request, "payments/my_cards.html", context)


@require_POST
@_signed_in
def card_preference(request):
    form = PreferenceForm(request.POST)
    if form.is_valid():
        services.card_preference_set(user=request.user, by_card=form.cleaned_data["by_card"])
        messages.success(request, "Saved.")
    return redirect("payments:my_cards")


@require_POST
@_signed_in
def card_add(request):
    if gateways.client_settings(selectors.gateway_config()) is None:
        messages.error(request, "Card payments are not available right now.")
        return redirect("payments:my_cards")
    try:
        card = services.card_setup_start(
            user=request.user,
            return_url=request.build_absolute_uri(reverse("payments:card_setup", args=[REFERENCE_PLACEHOLDER])),
        )
    except (ValidationError, LookupError, GatewayUnavailable) as exc:
        _error(request, exc)
        return redirect("payments:my_cards")
    if card.status == SavedCard.Status.FAILED:
        messages.error(request, card.last_error or "The gateway refused to save a card.")
        return redirect("payments:my_cards")
    # Kept in the signed-in session only (never in the database) for this page.
    request.session[f"checkout:{card.setup_reference}"] = {
        "client_secret": card.client_secret,
        "session": (card.client_action or {}).get("session"),
    }
    return redirect("payments:card_setup", reference=card.setup_reference)


@_signed_in
def card_setup(request, reference):
    card = get_object_or_404(SavedCard, setup_reference=reference, user=request.user)
    context = {"card": card}
    entry = gateways.client_settings(selectors.gateway_config())
    if card.status == SavedCard.Status.PENDING and entry:
        return_url = request.build_absolute_uri(reverse("payments:card_setup", args=[reference]))
        stored = request.session.get(f"checkout:{reference}")
        if not stored or not (stored.get("client_secret") or stored.get("session")):
            try:
                resumed = services.card_setup_resume(card=card, return_url=return_url)
            except (LookupError, GatewayUnavailable):
                resumed = None
            stored = {
                "client_secret": getattr(resumed, "client_secret", ""),
                "session": (getattr(resumed, "client_action", None) or {}).get("session"),
            }
        context["checkout"] = {
            **entry,
            **stored,
            "mode": "setup",
            "return_url": return_url,
            "status_url": reverse("payments:card_status", args=[reference]),
        }
    return render(request, "payments/card_setup.html", context)


def card_status(request, reference):
    """The state of one's own card being saved (JSON, polled); POST first asks the gateway."""
    if not request.user.is_authenticated:
        raise Http404
    card = get_object_or_404(SavedCard, setup_reference=reference, user=request.user)
    if request.method == "POST":
        try:
            card = services.card_setup_confirm(card=card)
        except (GatewayUnavailable, LookupError):
            pass  # the webhook will tell
    done = card.status == SavedCard.Status.ACTIVE
    failed = card.status in (SavedCard.Status.FAILED, SavedCard.Status.REMOVED)
    message = "Card saved." if done else card.last_error
    return JsonResponse({"status": card.status, "done": done, "failed": failed, "message": message})


@require_POST
@_signed_in
def card_default(request, pk):
    card = get_object_or_404(SavedCard, pk=pk, user=request.user)
    try:
        services.card_set_default(user=request.user, card=card)
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, f"{card} is now your default card.")
    return redirect("payments:my_cards")


@require_POST
@_signed_in
def card_remove(request, pk):
    card = get_object_or_404(SavedCard, pk=pk, user=request.user)
    try:
        services.card_remove(user=request.user, card=card)
    except (ValidationError, PermissionDenied, LookupError, GatewayUnavailable) as exc:
        _error(request, exc)
    else:
        messages.success(request, f"{card} removed.")
    return redirect("payments:my_cards")


@_signed_in
def my_payments(request):
    """Holds and captures per session, for the driver (their receipts hold the invoices)."""
    from django.core.paginator import Paginator

    payments = Paginator(selectors.driver_session_payments(user=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/my_payments.html",
        {"payments": payments, "cards": selectors.cards_for_user(user=request.user)},
    )
