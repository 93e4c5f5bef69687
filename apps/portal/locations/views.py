"""Locations: list with a live-status map and filters, create and edit (OCPI 2.2.1 fields),
a location's chargers."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.chargers import services
from apps.chargers.models import Connector, Location
from apps.chargers.selectors import AVAILABLE, CHARGING, FAULTED
from apps.portal import bulk
from apps.portal.locations.forms import WEEKDAYS, LocationForm


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


@role_required("locations.view")
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
            "can_edit": allowed(request.user, "locations.change"),
        },
    )


@role_required("locations.change")
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


@role_required("locations.view")
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
            "can_edit": allowed(request.user, "locations.change"),
        },
    )


@role_required("locations.change")
def location_import(request):
    return bulk.import_page(request, "locations")


@role_required("locations.view")
def location_export(request, fmt):
    queryset = location_filter(Location.objects.order_by("name"), request.GET)
    return bulk.export_response("locations", queryset, fmt, "locations")
