"""Local authorisation lists: manage the lists (/local-lists/) and see / push one charger's
list (/chargers/<identity>/local-list/). Included in apps/portal/urls.py through
`urlpatterns` below, so the names live in the `portal` namespace."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from apps.accounts.permissions import CAN_OPERATE_CHARGERS, CAN_VIEW_PORTAL, role_required
from apps.chargers.models import ChargePoint, Location
from apps.charging import locallists
from apps.charging.models import IdToken, LocalAuthList, LocalListState
from apps.portal.views import _form_errors

PUSH_TIMEOUT = 20


class LocalAuthListForm(forms.ModelForm):
    group_ids = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Groups",
        help_text="Mode “cards of chosen groups”: cards whose group (parentIdTag) is one of these.",
    )
    tokens = forms.ModelMultipleChoiceField(
        queryset=IdToken.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        label="Cards",
        help_text="Mode “chosen cards”.",
    )
    charge_points = forms.ModelMultipleChoiceField(
        queryset=ChargePoint.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Chargers"
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Locations",
        help_text="Every charger at these locations carries the list too.",
    )

    class Meta:
        model = LocalAuthList
        fields = ("name", "mode", "group_ids", "include_refused", "tokens", "charge_points", "locations")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = set(IdToken.objects.exclude(group_id="").values_list("group_id", flat=True).distinct())
        known |= set(self.instance.group_ids or []) if self.instance.pk else set()
        self.fields["group_ids"].choices = [(g, g) for g in sorted(known)]
        self.fields["tokens"].queryset = IdToken.objects.order_by("id_token")
        self.fields["charge_points"].queryset = ChargePoint.objects.order_by("identity")
        self.fields["locations"].queryset = Location.objects.order_by("name")
        if self.instance.pk:
            self.initial["group_ids"] = self.instance.group_ids
            self.initial["tokens"] = list(self.instance.tokens.all())
            self.initial["charge_points"] = list(self.instance.charge_points.all())
            self.initial["locations"] = list(self.instance.locations.all())

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if LocalAuthList.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A list with this name already exists.")
        return name


@role_required(CAN_VIEW_PORTAL)
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
        {"lists": lists, "chargers": chargers, "can_edit": request.user.role in CAN_OPERATE_CHARGERS},
    )


@role_required(CAN_OPERATE_CHARGERS)
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
            _form_errors(form, exc)
        else:
            messages.success(request, f"Saved list {local_list.name}; chargers whose content changed get it pushed.")
            return redirect("portal:locallist_index")
    return render(request, "portal/locallists/edit.html", {"form": form, "local_list": local_list})


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def local_list_delete(request, pk):
    local_list = get_object_or_404(LocalAuthList, pk=pk)
    locallists.local_auth_list_delete(local_list=local_list)
    messages.success(request, f"Deleted list {local_list.name}.")
    return redirect("portal:locallist_index")


@role_required(CAN_VIEW_PORTAL)
def charger_local_list(request, identity):
    charge_point = get_object_or_404(ChargePoint, identity=identity)
    context = {
        "cp": charge_point,
        **locallists.local_list_overview(charge_point=charge_point),
        "can_operate": request.user.role in CAN_OPERATE_CHARGERS,
    }
    return render(request, "portal/locallists/charger.html", context)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_local_list_push(request, identity):
    charge_point = get_object_or_404(ChargePoint, identity=identity)
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


urlpatterns = [
    path("local-lists/", local_list_index, name="locallist_index"),
    path("local-lists/new/", local_list_edit, name="locallist_create"),
    path("local-lists/<int:pk>/", local_list_edit, name="locallist_edit"),
    path("local-lists/<int:pk>/delete/", local_list_delete, name="locallist_delete"),
    path("chargers/<str:identity>/local-list/", charger_local_list, name="charger_locallist"),
    path("chargers/<str:identity>/local-list/push/", charger_local_list_push, name="charger_locallist_push"),
]
