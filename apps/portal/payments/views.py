"""Payment pages under /payments/: payments (failed captures first-class), a payment's
operations with refund and retry buttons, the finance reconciliation per day with CSV, and the
gateway settings (secrets are write-only: never rendered back).

A driver's cards on file (/payments/cards/): add one in the gateway's own form (Stripe
Payment Element on a SetupIntent / Adyen Drop-in on a zero-value session), choose the default,
remove (detached at the gateway), choose whether sessions are paid by card; and the driver's
card payments per session (/payments/my/): holds, captures, releases. The gateways' webhooks
are machine endpoints and stay in apps/payments (webhooks.py, urls.py)."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.core import exports
from apps.payments import gateways, selectors, services
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment, SavedCard, SessionPaymentChoice
from apps.payments.platform import platform_providers
from apps.payments.services.sessions import REFERENCE_PLACEHOLDER
from apps.portal.payments.forms import GatewayForm, PreferenceForm, RefundForm
from apps.portal.wallets.forms import PeriodForm
from apps.wallets.services import new_key


@role_required("money.view")
def payment_list(request):
    status, kind, search = (request.GET.get(k, "").strip() for k in ("status", "kind", "q"))
    page = Paginator(selectors.payment_list(status=status, kind=kind, search=search), 50).get_page(
        request.GET.get("page")
    )
    attention = selectors.payment_list(status="attention").count()
    return render(
        request,
        "payments/payment_list.html",
        {"payments": page, "statuses": Payment.Status.choices, "status": status, "q": search, "attention": attention},
    )


@role_required("money.view")
def payment_detail(request, pk):
    payment = get_object_or_404(
        Payment.objects.select_related("user", "cdr", "transaction__charge_point", "saved_card"), pk=pk
    )
    context = {"payment": payment, "operations": payment.operations.select_related("created_by")}
    if allowed(request.user, "money.move") and payment.refundable > 0:
        context["refund_form"] = RefundForm(initial={"key": new_key()})
    return render(request, "payments/payment_detail.html", context)


@require_POST
@role_required("money.move")
def payment_refund(request, pk):
    payment = get_object_or_404(Payment, pk=pk)
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("payments:payment_detail", pk=pk)
    data = form.cleaned_data
    try:
        op = services.payment_refund(
            payment=payment,
            user=request.user,
            reason=data["reason"],
            idempotency_key=data["key"],
            amount=data["amount"],
        )
    except (ValidationError, PermissionDenied, LookupError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Refund of {op.amount} {op.currency}: {op.get_status_display()}.")
    return redirect("payments:payment_detail", pk=pk)


@require_POST
@role_required("money.move")
def payment_capture_retry(request, pk):
    payment = get_object_or_404(Payment, pk=pk, status=Payment.Status.CAPTURE_FAILED)
    try:
        payment = services.payment_capture(payment=payment)
    except (GatewayUnavailable, LookupError) as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Capture: {payment.get_status_display()}.")
    return redirect("payments:payment_detail", pk=pk)


@role_required("money.view")
def reconciliation(request):
    form = PeriodForm(request.GET)
    rows = selectors.reconciliation(**form.period())
    return render(
        request, "payments/reconciliation.html", {"rows": rows, "form": form, "query": request.GET.urlencode()}
    )


class _Echo:
    def write(self, value):
        return value


@role_required("money.view")
def reconciliation_export(request):
    rows = selectors.reconciliation(**PeriodForm(request.GET).period())
    header = ["day_utc", "currency", "operation", "count", "succeeded", "pending", "failed", "amount", "fees"]
    writer = exports.csv_writer(_Echo())

    def stream():
        yield writer.writerow(header)
        for r in rows:
            yield writer.writerow(
                [
                    r["day"],
                    r["currency"],
                    r["kind"],
                    r["count"],
                    r["succeeded"],
                    r["pending"],
                    r["failed"],
                    r["amount"],
                    r["fees"],
                ]
            )

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reconciliation.csv"'
    return response


@role_required("payments.gateways")
def gateway_settings(request):
    config = selectors.gateway_config()
    initial = (
        {
            "provider": config.provider,
            "live": config.live,
            "preauth_amount": config.preauth_amount,
            "use_platform": config.use_platform,
        }
        if config
        else {}
    )
    platform = platform_providers()
    stored = {config.provider: config.credentials} if config and config.credentials_encrypted else {}
    form = GatewayForm(
        request.POST or None, initial=initial or {"preauth_amount": 30}, stored=stored, platform=platform
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.gateway_config_save(
                provider=form.cleaned_data["provider"],
                live=form.cleaned_data["live"],
                preauth_amount=form.cleaned_data["preauth_amount"],
                credentials=form.credentials(),
                use_platform=bool(form.cleaned_data.get("use_platform")),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Gateway saved.")
            return redirect("payments:gateway_settings")
    configured = sorted(config.credentials) if config and not config.use_platform else []
    webhook_base = request.build_absolute_uri("/payments/webhooks/")
    return render(
        request,
        "payments/gateway_settings.html",
        {
            "form": form,
            "config": config,
            "configured": configured,
            "webhook_base": webhook_base,
            "card_entry": gateways.client_settings(config),
        },
    )


def payment_status(request, reference):
    """The state of one's own payment, polled by the card-entry page (JSON). A payer sees only
    their own payments; `confirm=1` (POST) first asks the gateway (synchronous confirmation)."""
    payment = get_object_or_404(Payment, merchant_reference=reference)
    if not request.user.is_authenticated or payment.user_id != request.user.pk:
        raise Http404
    if request.method == "POST":
        try:
            payment = services.payment_refresh(payment=payment)
        except (GatewayUnavailable, LookupError):
            pass  # the webhook will tell
    return JsonResponse(payment_state(payment))


def payment_state(payment: Payment) -> dict:
    """What a paying page shows: never references the gateway could be asked about by others."""
    done = payment.status in (Payment.Status.CAPTURED, Payment.Status.AUTHORIZED, Payment.Status.CAPTURE_PENDING)
    failed = payment.status in (Payment.Status.FAILED, Payment.Status.CANCELLED)
    if payment.kind == Payment.Kind.TOPUP:
        done = payment.status == Payment.Status.CAPTURED
    return {
        "status": payment.status,
        "label": payment.get_status_display(),
        "done": done,
        "failed": failed,
        "amount": str(payment.amount_authorized),
        "currency": payment.currency,
    }


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
