"""Tariff pages in the operator portal: list, read, preview calculator, OCPI import, assign."""

import datetime as dt
import json
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.portal.tariffs.forms import AssignForm, PreviewForm
from apps.tariffs import engine, services
from apps.tariffs.models import Tariff, TariffAssignment
from apps.tariffs.ocpi import tariff_to_ocpi
from apps.tariffs.selectors import tariff_estimate, tariff_list


@role_required("tariffs.view")
def tariff_index(request):
    tariffs = tariff_list().prefetch_related("assignments")
    return render(
        request, "tariffs/list.html", {"tariffs": tariffs, "can_manage": allowed(request.user, "tariffs.change")}
    )


@role_required("tariffs.view")
def tariff_detail(request, pk):
    tariff = get_object_or_404(tariff_list(), pk=pk)
    org_tz = request.tenant.timezone
    local_now = timezone.now().astimezone(zoneinfo.ZoneInfo(org_tz)).replace(second=0, microsecond=0, tzinfo=None)
    form = PreviewForm(request.GET or None, initial={"start": local_now})
    result, error = None, None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        # The form's time is the organisation's local time, which is what an operator means.
        start = data["start"].replace(tzinfo=None)
        start = start.replace(tzinfo=zoneinfo.ZoneInfo(org_tz))
        end = start + dt.timedelta(minutes=data["minutes"])
        try:
            result = tariff_estimate(
                tariff=tariff,
                start=start,
                end=end,
                energy_kwh=data["energy_kwh"],
                time_zone=org_tz,
                max_power_kw=data["max_power_kw"],
                parking_minutes=data["parking_minutes"],
            )
        except (engine.PricingError, InvalidOperation) as exc:
            error = str(exc)
    rows = []
    if result is not None:
        units = {"ENERGY": "kWh", "TIME": "h", "PARKING_TIME": "h", "FLAT": "", "RESERVATION_TIME": "h"}
        for period in result.periods:
            for line in period.lines:
                rows.append(
                    {
                        "start": period.start.astimezone(zoneinfo.ZoneInfo(org_tz)),
                        "kind": period.kind,
                        "type": line.type,
                        "volume": f"{float(line.volume):.3f} {units.get(line.type, '')}",
                        "price": line.component.price if line.component else None,
                    }
                )
    return render(
        request,
        "tariffs/detail.html",
        {
            "tariff": tariff,
            "form": form,
            "result": result,
            "error": error,
            "rows": rows,
            "ocpi_json": json.dumps(tariff_to_ocpi(tariff), indent=2, default=str),
            "assign_form": AssignForm(),
            "can_manage": allowed(request.user, "tariffs.change"),
        },
    )


@role_required("tariffs.change")
def tariff_import(request):
    text, error = request.POST.get("ocpi", ""), None
    if request.method == "POST":
        try:
            data = json.loads(text, parse_float=Decimal)
            tariff = services.tariff_import_ocpi(data=data, name=request.POST.get("name", "").strip())
        except json.JSONDecodeError as exc:
            error = f"Not valid JSON: {exc}"
        except ValidationError as exc:
            error = (
                "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
        else:
            messages.success(request, "Tariff imported.")
            return redirect("tariffs:detail", pk=tariff.pk)
    return render(request, "tariffs/import.html", {"text": text, "error": error})


@role_required("tariffs.change")
@require_POST
def tariff_assign(request, pk):
    tariff = get_object_or_404(Tariff, pk=pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        scope = form.cleaned_data["scope"]
        ref = ""
        if scope == TariffAssignment.Scope.LOCATION and form.cleaned_data["location"]:
            ref = str(form.cleaned_data["location"].pk)
        elif scope == TariffAssignment.Scope.CHARGER_GROUP and form.cleaned_data["charger_group"]:
            ref = str(form.cleaned_data["charger_group"].pk)
        elif scope == TariffAssignment.Scope.EVSE:
            ref = form.cleaned_data["evse"].strip()
        try:
            services.tariff_assign(tariff=tariff, scope=scope, scope_ref=ref, priority=form.cleaned_data["priority"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Assigned.")
    else:
        messages.error(request, "Check the assignment form.")
    return redirect("tariffs:detail", pk=pk)
