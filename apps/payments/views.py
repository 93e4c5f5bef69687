"""Payment pages under /payments/: payments (failed captures first-class), a payment's
operations with refund and retry buttons, the finance reconciliation per day with CSV, and the
gateway settings (secrets are write-only: never rendered back)."""

import csv

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import CAN_MANAGE_ORGANIZATION, CAN_MOVE_MONEY, CAN_VIEW_MONEY, role_required
from apps.payments import gateways, selectors, services
from apps.payments.gateways import CREDENTIAL_FIELDS, PUBLIC_FIELDS
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.models import Payment, Provider
from apps.payments.platform import platform_providers
from apps.wallets.services import new_key
from apps.wallets.views import PeriodForm


class RefundForm(forms.Form):
    amount = forms.DecimalField(required=False, max_digits=18, decimal_places=4, min_value=0)
    reason = forms.CharField(max_length=255)
    key = forms.CharField(widget=forms.HiddenInput)


class GatewayForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)
    live = forms.BooleanField(required=False, help_text="Off: the gateway's test environment.")
    preauth_amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=1)

    def __init__(self, *args, stored: dict | None = None, platform: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if platform:  # offered only when the platform has an account configured (environment)
            names = ", ".join(p.title() for p in platform)
            self.fields["use_platform"] = forms.BooleanField(
                required=False,
                label=f"Use the platform's account ({names})",
                help_text="No credentials of your own needed; the platform's fees and payout terms apply.",
            )
            self.order_fields(["provider", "use_platform"])
        stored = stored or {}
        for provider, fields in CREDENTIAL_FIELDS.items():
            for name, label in fields.items():
                if name in PUBLIC_FIELDS:
                    # Publishable / client keys are meant for browsers: shown back like any setting.
                    self.fields[f"{provider}__{name}"] = forms.CharField(
                        label=f"{provider.title()}: {label}",
                        required=False,
                        initial=stored.get(provider, {}).get(name, ""),
                    )
                    continue
                # render_value=False: a stored secret is never sent to the browser.
                self.fields[f"{provider}__{name}"] = forms.CharField(
                    label=f"{provider.title()}: {label}",
                    required=False,
                    widget=forms.PasswordInput(render_value=False),
                    help_text="Leave empty to keep the stored value.",
                )

    def credentials(self) -> dict:
        prefix = f"{self.cleaned_data['provider']}__"
        return {k[len(prefix) :]: v for k, v in self.cleaned_data.items() if k.startswith(prefix)}


@role_required(CAN_VIEW_MONEY)
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


@role_required(CAN_VIEW_MONEY)
def payment_detail(request, pk):
    payment = get_object_or_404(
        Payment.objects.select_related("user", "cdr", "transaction__charge_point", "saved_card"), pk=pk
    )
    context = {"payment": payment, "operations": payment.operations.select_related("created_by")}
    if request.user.role in CAN_MOVE_MONEY and payment.refundable > 0:
        context["refund_form"] = RefundForm(initial={"key": new_key()})
    return render(request, "payments/payment_detail.html", context)


@require_POST
@role_required(CAN_MOVE_MONEY)
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
@role_required(CAN_MOVE_MONEY)
def payment_capture_retry(request, pk):
    payment = get_object_or_404(Payment, pk=pk, status=Payment.Status.CAPTURE_FAILED)
    try:
        payment = services.payment_capture(payment=payment)
    except (GatewayUnavailable, LookupError) as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Capture: {payment.get_status_display()}.")
    return redirect("payments:payment_detail", pk=pk)


@role_required(CAN_VIEW_MONEY)
def reconciliation(request):
    form = PeriodForm(request.GET)
    rows = selectors.reconciliation(**form.period())
    return render(
        request, "payments/reconciliation.html", {"rows": rows, "form": form, "query": request.GET.urlencode()}
    )


class _Echo:
    def write(self, value):
        return value


@role_required(CAN_VIEW_MONEY)
def reconciliation_export(request):
    rows = selectors.reconciliation(**PeriodForm(request.GET).period())
    header = ["day_utc", "currency", "operation", "count", "succeeded", "pending", "failed", "amount", "fees"]
    writer = csv.writer(_Echo())

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


@role_required(CAN_MANAGE_ORGANIZATION)
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
