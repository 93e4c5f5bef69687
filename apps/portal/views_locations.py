"""Locations: list with a live-status map and filters, create and edit (OCPI 2.2.1 fields),
a location's chargers."""

import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render

from apps.accounts.permissions import CAN_MANAGE_ORGANIZATION, CAN_VIEW_PORTAL, role_required
from apps.chargers import ocpi, services
from apps.chargers.models import Connector, Location
from apps.portal.selectors_network import AVAILABLE, CHARGING, FAULTED

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
JSON_EXAMPLES = {
    "images": '[{"url": "https://example.com/site.jpg", "category": "LOCATION", "type": "jpeg"}]',
    "directions": '[{"language": "en", "text": "Enter through gate 2, chargers on level -1."}]',
    "energy_mix": '{"is_green_energy": true, "supplier_name": "Green Power AG"}',
    "publish_allowed_to": '[{"group_id": "FLEET-1"}]',
    "exceptional_closings": '[{"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}]',
}


class JSONTextField(forms.JSONField):
    """A JSON textarea that shows nothing (not "null" or "[]") when there is nothing."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "" if value in (None, [], {}) else super().prepare_value(value)


class LocationForm(forms.ModelForm):
    """The model's plain fields plus a per-weekday opening-hours editor; the service
    validates everything (the same rules as the API and imports)."""

    facilities = forms.MultipleChoiceField(
        choices=ocpi.choices(ocpi.FACILITIES), required=False, widget=forms.CheckboxSelectMultiple
    )
    always_open = forms.BooleanField(required=False, label="Open 24/7")
    exceptional_openings = JSONTextField(required=False, help_text="Extra opening periods, same shape as closings.")
    exceptional_closings = JSONTextField(
        required=False, help_text=f"Holidays and closures, e.g. <code>{JSON_EXAMPLES['exceptional_closings']}</code>"
    )

    class Meta:
        model = Location
        fields = (
            "name",
            "address",
            "postal_code",
            "city",
            "state",
            "country",
            "latitude",
            "longitude",
            "time_zone",
            "parking_type",
            "facilities",
            "charging_when_closed",
            "publish",
            "publish_allowed_to",
            "operator_name",
            "operator_website",
            "suboperator_name",
            "suboperator_website",
            "owner_name",
            "owner_website",
            "images",
            "directions",
            "energy_mix",
        )
        field_classes = {name: JSONTextField for name in ("images", "directions", "energy_mix", "publish_allowed_to")}
        help_texts = {
            "country": "ISO 3166-1 alpha-2, e.g. DE (OCPI receives the alpha-3 code).",
            "publish": "Show this location to roaming partners (OCPI). Needs address, city and coordinates.",
            "publish_allowed_to": "Unpublished locations only: who may still see it, e.g. "
            f"<code>{JSON_EXAMPLES['publish_allowed_to']}</code>",
            "images": f"OCPI images, e.g. <code>{JSON_EXAMPLES['images']}</code>",
            "directions": f"Per language, e.g. <code>{JSON_EXAMPLES['directions']}</code>",
            "energy_mix": f"Optional, e.g. <code>{JSON_EXAMPLES['energy_mix']}</code>",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n, day in enumerate(WEEKDAYS, start=1):
            self.fields[f"hours_{n}"] = forms.CharField(
                required=False, label=day, widget=forms.TextInput(attrs={"placeholder": "08:00-20:00"})
            )
        hours = self.instance.opening_times if self.instance.pk else None
        if hours and not self.is_bound:
            self.initial["always_open"] = hours.get("twentyfourseven", False)
            for n in range(1, 8):
                periods = [p for p in hours.get("regular_hours", []) if p["weekday"] == n]
                self.initial[f"hours_{n}"] = ", ".join(f"{p['period_begin']}-{p['period_end']}" for p in periods)
            for key in ("exceptional_openings", "exceptional_closings"):
                self.initial[key] = hours.get(key) or None

    def _opening_times(self) -> dict | None:
        data = self.cleaned_data
        regular = []
        for n in range(1, 8):
            for part in filter(None, (p.strip() for p in (data.get(f"hours_{n}") or "").split(","))):
                match = _PERIOD.match(part)
                if not match:
                    self.add_error(f"hours_{n}", f"{part!r}: write periods like 08:00-20:00, 14:00-18:00.")
                    continue
                begin, end = (t.zfill(5) for t in match.groups())
                regular.append({"weekday": n, "period_begin": begin, "period_end": end})
        extra = {k: data[k] for k in ("exceptional_openings", "exceptional_closings") if data.get(k)}
        if not data.get("always_open") and not regular and not extra:
            return None  # unknown opening hours: OCPI leaves the field out
        return {"twentyfourseven": bool(data.get("always_open")), "regular_hours": regular, **extra}

    def clean(self):
        data = super().clean()
        self.location_data = {k: v for k, v in data.items() if k in services.LOCATION_FIELDS}
        hours = self._opening_times()
        # Fields the form already rejected are absent from cleaned_data, so every remaining
        # problem is reported once, all at the same time.
        if not any(f"hours_{n}" in self.errors for n in range(1, 8)):
            self.location_data["opening_times"] = hours
        try:
            services.location_validate(location=self.instance if self.instance.pk else None, **self.location_data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return data

    def _post_clean(self):
        # ModelForm would validate the model again here and repeat the service's
        # messages; the service already checked everything and does the saving.
        pass

    def groups(self):
        """Sections of the edit page, in order."""
        names = [
            ("Site", ("name", "address", "postal_code", "city", "state", "country", "latitude", "longitude")),
            ("Opening hours", ("time_zone", "always_open", *(f"hours_{n}" for n in range(1, 8)))),
            ("Parking and facilities", ("parking_type", "charging_when_closed", "facilities")),
            ("Publishing (OCPI)", ("publish", "publish_allowed_to")),
            (
                "Operator, sub-operator and owner",
                (
                    "operator_name",
                    "operator_website",
                    "suboperator_name",
                    "suboperator_website",
                    "owner_name",
                    "owner_website",
                ),
            ),
            (
                "Images, directions and energy (JSON)",
                ("images", "directions", "energy_mix", "exceptional_openings", "exceptional_closings"),
            ),
        ]
        return [(title, [self[name] for name in fields]) for title, fields in names]


def location_status(location) -> str:
    """One colour per location for the map: what a driver would find there now."""
    if not location.chargers_total:
        return "empty"
    if not location.chargers_online:
        return "offline"
    if location.available:
        return "available"
    if location.charging:
        return "charging"
    if location.faulted:
        return "faulted"
    return "offline"


def _locations():
    online = Q(charge_points__online=True)
    return Location.objects.annotate(
        chargers_total=Count("charge_points", distinct=True),
        chargers_online=Count("charge_points", filter=online, distinct=True),
        available=Count(
            "charge_points__connectors",
            distinct=True,
            filter=online
            & Q(charge_points__connectors__status__in=AVAILABLE, charge_points__connectors__connector_id__gt=0),
        ),
        charging=Count(
            "charge_points__connectors",
            distinct=True,
            filter=online & Q(charge_points__connectors__status__in=CHARGING),
        ),
        faulted=Count(
            "charge_points__connectors", distinct=True, filter=online & Q(charge_points__connectors__status__in=FAULTED)
        ),
    ).order_by("name")


def location_filter(queryset, params):
    """The list's filters, shared by the page and the export (export what you see)."""
    q = params.get("q", "").strip()
    if q:
        queryset = queryset.filter(
            Q(name__icontains=q) | Q(city__icontains=q) | Q(address__icontains=q) | Q(postal_code__icontains=q)
        )
    if params.get("country"):
        queryset = queryset.filter(country=params["country"].upper())
    if params.get("city"):
        queryset = queryset.filter(city__iexact=params["city"])
    if params.get("publish") in ("yes", "no"):
        queryset = queryset.filter(publish=params["publish"] == "yes")
    return queryset


@role_required(CAN_VIEW_PORTAL)
def location_list(request):
    filters = {k: request.GET.get(k, "").strip() for k in ("q", "country", "city", "publish")}
    locations = list(location_filter(_locations(), filters))
    markers = [
        {
            "id": loc.pk,
            "name": loc.name,
            "lat": float(loc.latitude),
            "lng": float(loc.longitude),
            "status": location_status(loc),
            "available": loc.available,
            "chargers": loc.chargers_total,
            "url": f"/locations/{loc.pk}/",
        }
        for loc in locations
        if loc.latitude is not None and loc.longitude is not None
    ]
    for loc in locations:
        loc.status = location_status(loc)
    all_locations = Location.objects.order_by()
    return render(
        request,
        "portal/locations/list.html",
        {
            "locations": locations,
            "markers": markers,
            "q": filters["q"],
            "filters": filters,
            "query": request.GET.urlencode(),
            "countries": sorted(set(all_locations.values_list("country", flat=True))),
            "cities": sorted(set(all_locations.exclude(city="").values_list("city", flat=True))),
            "map_tiles": settings.MAP_TILE_URL,
            "can_edit": request.user.role in CAN_MANAGE_ORGANIZATION,
        },
    )


@role_required(CAN_MANAGE_ORGANIZATION)
def location_edit(request, pk=None):
    location = get_object_or_404(Location, pk=pk) if pk else None
    form = LocationForm(
        request.POST or None,
        instance=location,
        initial=None if location else {"time_zone": request.tenant.timezone, "country": request.tenant.country},
    )
    if request.method == "POST" and form.is_valid():
        try:
            if location is None:
                location = services.location_create(**form.location_data)
            else:
                location = services.location_update(location=location, **form.location_data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"Saved {location.name}.")
            return redirect("portal:location_detail", pk=location.pk)
    return render(request, "portal/locations/edit.html", {"form": form, "location": location})


@role_required(CAN_VIEW_PORTAL)
def location_detail(request, pk):
    location = get_object_or_404(_locations(), pk=pk)
    location.status = location_status(location)
    chargers = location.charge_points.prefetch_related(
        Prefetch("connectors", queryset=Connector.objects.filter(connector_id__gt=0))
    ).order_by("identity")
    hours = location.opening_times or {}
    opening = [
        (day, [p for p in hours.get("regular_hours", []) if p["weekday"] == n]) for n, day in enumerate(WEEKDAYS, 1)
    ]
    return render(
        request,
        "portal/locations/detail.html",
        {
            "location": location,
            "chargers": chargers,
            "opening": opening,
            "can_edit": request.user.role in CAN_MANAGE_ORGANIZATION,
        },
    )
