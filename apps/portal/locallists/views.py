"""Local authorisation lists: manage the lists (/local-lists/) and see / push one charger's
list (/chargers/<identity>/local-list/)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.chargers.models import ChargePoint
from apps.charging import locallists
from apps.charging.models import LocalAuthList, LocalListState
from apps.portal import ui
from apps.portal.locallists.forms import LocalAuthListForm

PUSH_TIMEOUT = 20


@role_required("locallists.view")
def local_list_index(request):
    lists = LocalAuthList.objects.prefetch_related("charge_points", "locations", "tokens")
    states = {s.charge_point_id: s for s in LocalListState.objects.all()}
    chargers = [
        {"cp": cp, "state": states.get(cp.pk)}
        for cp in ChargePoint.objects.filter(pk__in=locallists.local_list_charger_ids()).order_by("identity")
    ]
    return render(
        request,
        "portal/locallists/index.html",
        {"lists": lists, "chargers": chargers, "can_edit": allowed(request.user, "locallists.change")},
    )


@role_required("locallists.change")
def local_list_edit(request, pk=None):
    local_list = get_object_or_404(LocalAuthList, pk=pk) if pk else None
    form = LocalAuthListForm(request.POST or None, instance=local_list or LocalAuthList())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if local_list is None:
                local_list = locallists.local_auth_list_create(**data)
            else:
                locallists.local_auth_list_update(local_list=local_list, **data)
        except ValidationError as exc:
            ui.form_errors(form, exc)
        else:
            messages.success(request, f"Saved list {local_list.name}; chargers whose content changed get it pushed.")
            return redirect("portal:locallist_index")
    return render(request, "portal/locallists/edit.html", {"form": form, "local_list": local_list})


@role_required("locallists.change")
@require_POST
def local_list_delete(request, pk):
    local_list = get_object_or_404(LocalAuthList, pk=pk)
    locallists.local_auth_list_delete(local_list=local_list)
    messages.success(request, f"Deleted list {local_list.name}.")
    return redirect("portal:locallist_index")


@role_required("locallists.view")
def charger_local_list(request, identity):
    charge_point = ui.charger_or_404(identity)
    context = {
        "cp": charge_point,
        **locallists.local_list_overview(charge_point=charge_point),
        "can_operate": allowed(request.user, "locallists.change"),
    }
    return render(request, "portal/locallists/charger.html", context)


@role_required("locallists.change")
@require_POST
def charger_local_list_push(request, identity):
    charge_point = ui.charger_or_404(identity)
    full = {"full": True, "differential": False}.get(request.POST.get("update_type", ""))
    try:
        result = locallists.local_list_push(
            charge_point=charge_point, full=full, user=request.user, source="portal", timeout=PUSH_TIMEOUT
        )
    except locallists.LocalListError as exc:
        messages.error(request, str(exc))
    else:
        text = " ".join(p for p in (result.update_type, f"v{result.version}" if result.version else "") if p)
        summary = f"{text}: {result.answer or result.status}. {result.message}".strip(": ")
        (messages.success if result.ok else messages.error)(request, summary)
    return redirect("portal:charger_locallist", identity=identity)
