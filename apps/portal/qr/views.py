"""QR start pages. The connector page is public (a driver scans before signing in);
starting and stopping need a signed-in driver."""

import io

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST
from xhtml2pdf import pisa

from apps.accounts.permissions import role_required
from apps.chargers.models import Location
from apps.payments.gateways.base import GatewayUnavailable
from apps.payments.selectors import gateway_config
from apps.payments.services import payment_refresh
from apps.portal import ui
from apps.qr import guest, selectors, services
from apps.qr.models import ConnectorCode, GuestSession
from apps.wallets.selectors import organization_currency
from apps.wallets.services import new_key


def _code(code: str) -> ConnectorCode:
    return get_object_or_404(
        ConnectorCode.objects.select_related("charge_point", "charge_point__location"), code=code.upper()
    )


def connector_page(request, code):
    obj = _code(code)
    if not request.GET.get("partial"):
        services.qr_scan_record(code=obj, user=request.user)
    context = {"code": obj, **selectors.connector_state(code=obj, user=request.user)}
    if not request.user.is_authenticated:
        context["guest_card"] = guest.guest_card_entry()
        context["guest_key"] = new_key()
        context["preauth"] = guest_preauth()
    if not request.GET.get("partial"):
        context["price"] = selectors.connector_price(code=obj, user=request.user)
    template = "qr/_state.html" if request.GET.get("partial") else "qr/connector.html"
    return render(request, template, context)


@require_POST
def connector_start(request, code):
    obj = _code(code)
    if not request.user.is_authenticated:
        return redirect_to_login(f"/c/{obj.code}/")
    try:
        outcome = services.qr_start(code=obj, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        (messages.success if outcome.accepted else messages.error)(request, outcome.message)
    return redirect("qr:connector", code=obj.code)


@require_POST
def connector_stop(request, code):
    obj = _code(code)
    if not request.user.is_authenticated:
        return redirect_to_login(f"/c/{obj.code}/")
    outcome = services.qr_stop(code=obj, user=request.user)
    (messages.success if outcome.accepted else messages.error)(request, outcome.message)
    return redirect("qr:connector", code=obj.code)


def qr_image(request, code, fmt):
    obj = _code(code)
    qr = segno.make(selectors.code_url(obj.code), error="m")
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.save(buffer, kind="svg", scale=8, border=2, xmldecl=True)
        content_type = "image/svg+xml"
    else:
        qr.save(buffer, kind="png", scale=10, border=2)
        content_type = "image/png"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="connector-{obj.code}.{fmt}"'
    return response


def _sticker_pdf(title: str, charge_points) -> HttpResponse:
    stickers = []
    for cp in charge_points:
        for code in services.connector_codes_ensure(charge_point=cp):
            url = selectors.code_url(code.code)
            stickers.append(
                {"code": code, "url": url, "cp": cp, "png": segno.make(url, error="m").png_data_uri(scale=6, border=2)}
            )
    html = render_to_string("qr/stickers.html", {"title": title, "stickers": stickers})
    pdf = io.BytesIO()
    status = pisa.CreatePDF(html, dest=pdf)
    if status.err:
        return HttpResponse("Could not render the sticker sheet.", status=500)
    response = HttpResponse(pdf.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="stickers-{title}.pdf"'
    return response


@role_required("chargers.view")
def charger_stickers(request, identity):
    cp = ui.charger_or_404(identity)
    return _sticker_pdf(cp.identity, [cp])


@role_required("chargers.view")
def location_stickers(request, pk):
    location = get_object_or_404(Location, pk=pk)
    return _sticker_pdf(location.name, location.charge_points.order_by("identity"))


@role_required("chargers.view")
def analytics(request):
    return render(request, "qr/analytics.html", selectors.qr_analytics())


def guest_preauth():
    config = gateway_config()
    return {"amount": config.preauth_amount, "currency": organization_currency()} if config else None


@require_POST
def guest_create(request, code):
    obj = _code(code)
    try:
        session = guest.guest_session_create(
            code=obj, email=request.POST.get("email", ""), form_key=request.POST.get("key", "")[:64] or new_key()
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("qr:connector", code=obj.code)
    except (LookupError, GatewayUnavailable):
        messages.error(request, "Card payment is not available right now. Please try again in a moment.")
        return redirect("qr:connector", code=obj.code)
    _remember_checkout(request, session)
    return redirect(guest.guest_link(session))


def _remember_checkout(request, session: GuestSession) -> None:
    """The browser's client data for this hold, kept in this browser's session only."""
    payment = session.payment
    secret = getattr(payment, "client_secret", "")
    action = getattr(payment, "client_action", None) or {}
    if secret or action.get("session"):
        request.session[f"guest:{session.pk}"] = {"client_secret": secret, "session": action.get("session")}


def _guest(token) -> GuestSession:
    session = guest.guest_from_token(token)
    if session is None:
        raise Http404
    return session


def _guest_context(request, session: GuestSession, token: str) -> dict:
    context = {"guest": session, "code": session.code, "token": token, "charge_point": session.code.charge_point}
    if session.status == GuestSession.Status.AWAITING_PAYMENT and session.payment_id:
        card = guest.guest_card_entry()
        stored = request.session.get(f"guest:{session.pk}")
        if card and not stored:
            try:  # another device or an expired browser session: the gateway replays the start
                session = guest.guest_session_pay(guest=session, return_url=request.build_absolute_uri())
                _remember_checkout(request, session)
                stored = request.session.get(f"guest:{session.pk}")
            except (LookupError, GatewayUnavailable):
                stored = None
        if card and stored:
            context["checkout"] = {
                **card,
                **stored,
                "return_url": request.build_absolute_uri(reverse("qr:guest", args=[token])),
                "status_url": reverse("qr:guest_status", args=[token]),
            }
    if session.transaction_id:
        state = selectors.connector_state(code=session.code)
        context["live"] = state["live"] if state["transaction"] == session.transaction else {}
        context["receipt"] = guest.guest_receipt(session)
    return context


def guest_page(request, token):
    session = guest.guest_session_refresh(guest=_guest(token))
    partial = request.GET.get("partial")
    context = _guest_context(request, session, token)
    return render(request, "qr/_guest_state.html" if partial else "qr/guest.html", context)


def guest_status(request, token):
    """Polled by the card form (JSON). POST: the browser says the card step is done; ask the
    gateway now rather than wait for its webhook (synchronous confirmation)."""
    session = _guest(token)
    if request.method == "POST" and session.payment_id:
        try:
            payment_refresh(payment=session.payment)
        except (LookupError, GatewayUnavailable):
            pass  # the webhook will tell
    session = guest.guest_session_refresh(guest=_guest(token))
    payment = session.payment
    return JsonResponse(
        {
            "status": session.status,
            "label": session.get_status_display(),
            "message": session.message,
            "payment": payment.status if payment else "",
            "done": session.status != GuestSession.Status.AWAITING_PAYMENT,
            "failed": session.status in (GuestSession.Status.CANCELLED, GuestSession.Status.START_FAILED),
        }
    )


@require_POST
def guest_stop(request, token):
    session = guest.guest_session_refresh(guest=_guest(token))
    ok, message = guest.guest_session_stop(guest=session)
    (messages.success if ok else messages.error)(request, message)
    return redirect(guest.guest_link(session))
