"""RFID cards / id tokens for operators, and a driver's own cards and sessions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.charging import services
from apps.charging.models import IdToken, Transaction
from apps.portal import bulk, ui
from apps.portal.cards.forms import IdTokenForm


@role_required("idtokens.view")
def token_list(request):
    q, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    tokens = IdToken.objects.select_related("owner")
    if q:
        tokens = tokens.filter(
            Q(id_token__icontains=q) | Q(label__icontains=q) | Q(owner__email__icontains=q) | Q(group_id__icontains=q)
        )
    if status:
        tokens = tokens.filter(status=status)
    page = Paginator(tokens.order_by("id_token"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/tokens/list.html",
        {
            "tokens": page,
            "q": q,
            "status": status,
            "statuses": IdToken.Status.choices,
            "can_edit": allowed(request.user, "idtokens.change"),
        },
    )


@role_required("idtokens.change")
def token_edit(request, pk=None):
    token = get_object_or_404(IdToken, pk=pk) if pk else None
    form = IdTokenForm(request.POST or None, instance=token)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "id_token"}
        try:
            if token is None:
                token = services.id_token_create(id_token=form.cleaned_data["id_token"], **data)
            else:
                services.id_token_update(token=token, **data)
        except ValidationError as exc:
            ui.form_errors(form, exc)
        else:
            messages.success(request, f"Saved card {token.id_token}.")
            return redirect("portal:idtoken_list")
    return render(request, "portal/tokens/edit.html", {"form": form, "token": token})


@role_required("idtokens.change")
@require_POST
def token_block(request, pk):
    token = get_object_or_404(IdToken, pk=pk)
    new = IdToken.Status.ACCEPTED if token.status == IdToken.Status.BLOCKED else IdToken.Status.BLOCKED
    services.id_token_update(token=token, status=new)
    messages.success(request, f"Card {token.id_token} is now {new.lower()}.")
    return redirect(request.POST.get("next") or "portal:idtoken_list")


@role_required("driver.self")
def driver_charging(request):
    """A driver's cards and sessions (only their own)."""
    cards = IdToken.objects.filter(owner=request.user).order_by("id_token")
    sessions = (
        Transaction.objects.filter(Q(id_token__owner=request.user) | Q(id_tag__in=[c.id_token for c in cards]))
        .select_related("charge_point")
        .order_by("-started_at")[:100]
    )
    return render(request, "portal/driver_charging.html", {"cards": cards, "sessions": sessions})


@role_required("idtokens.change")
def card_import(request):
    return bulk.import_page(request, "cards")


@role_required("idtokens.view")
def card_export(request, fmt):
    queryset = IdToken.objects.select_related("owner").order_by("id_token")
    return bulk.export_response("cards", queryset, fmt, "rfid-cards")
