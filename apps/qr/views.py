"""QR start pages. The connector page is public (a driver scans before signing in);
starting and stopping need a signed-in driver."""

import io

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST
from xhtml2pdf import pisa

from apps.accounts.permissions import CAN_VIEW_PORTAL, role_required
from apps.chargers.models import ChargePoint, Location
from apps.qr import selectors, services
from apps.qr.models import ConnectorCode


def _code(code: str) -> ConnectorCode:
    return get_object_or_404(
        ConnectorCode.objects.select_related("charge_point", "charge_point__location"), code=code.upper()
    )


def connector_page(request, code):
    obj = _code(code)
    if not request.GET.get("partial"):
        services.qr_scan_record(code=obj, user=request.user)
    context = {"code": obj, **selectors.connector_state(code=obj, user=request.user)}
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


@role_required(CAN_VIEW_PORTAL)
def charger_stickers(request, identity):
    cp = get_object_or_404(ChargePoint, identity=identity)
    return _sticker_pdf(cp.identity, [cp])


@role_required(CAN_VIEW_PORTAL)
def location_stickers(request, pk):
    location = get_object_or_404(Location, pk=pk)
    return _sticker_pdf(location.name, location.charge_points.order_by("identity"))


@role_required(CAN_VIEW_PORTAL)
def analytics(request):
    return render(request, "qr/analytics.html", selectors.qr_analytics())
