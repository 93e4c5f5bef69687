"""Locations: list with a live-status map, create and edit, a location's chargers."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render

from apps.accounts.permissions import CAN_MANAGE_ORGANIZATION, CAN_VIEW_PORTAL, role_required
from apps.chargers.models import Connector, Location
from apps.portal.selectors_network import AVAILABLE, CHARGING, FAULTED


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ("name", "address", "postal_code", "city", "country", "latitude", "longitude", "time_zone")


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
        available=Count("charge_points__connectors", distinct=True,
                        filter=online & Q(charge_points__connectors__status__in=AVAILABLE,
                                          charge_points__connectors__connector_id__gt=0)),
        charging=Count("charge_points__connectors", distinct=True,
                       filter=online & Q(charge_points__connectors__status__in=CHARGING)),
        faulted=Count("charge_points__connectors", distinct=True,
                      filter=online & Q(charge_points__connectors__status__in=FAULTED)),
    ).order_by("name")


@role_required(CAN_VIEW_PORTAL)
def location_list(request):
    q = request.GET.get("q", "").strip()
    locations = _locations()
    if q:
        locations = locations.filter(Q(name__icontains=q) | Q(city__icontains=q) | Q(address__icontains=q))
    locations = list(locations)
    markers = [{"id": loc.pk, "name": loc.name, "lat": float(loc.latitude), "lng": float(loc.longitude),
                "status": location_status(loc), "available": loc.available, "chargers": loc.chargers_total,
                "url": f"/locations/{loc.pk}/"}
               for loc in locations if loc.latitude is not None and loc.longitude is not None]
    for loc in locations:
        loc.status = location_status(loc)
    return render(request, "portal/locations/list.html", {
        "locations": locations, "markers": markers, "q": q, "map_tiles": settings.MAP_TILE_URL,
        "can_edit": request.user.role in CAN_MANAGE_ORGANIZATION})


@role_required(CAN_MANAGE_ORGANIZATION)
def location_edit(request, pk=None):
    location = get_object_or_404(Location, pk=pk) if pk else None
    form = LocationForm(request.POST or None, instance=location,
                        initial=None if location else {"time_zone": request.tenant.timezone,
                                                       "country": request.tenant.country})
    if request.method == "POST" and form.is_valid():
        location = form.save()
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
    return render(request, "portal/locations/detail.html", {
        "location": location, "chargers": chargers, "can_edit": request.user.role in CAN_MANAGE_ORGANIZATION})
