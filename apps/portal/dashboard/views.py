"""The first page after signing in: the operator's dashboard, or the driver's home."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from apps.accounts.models import Role
from apps.accounts.permissions import CAN_VIEW_PORTAL
from apps.accounts.selectors import dashboard_figures
from apps.tenants.models import Organization


@login_required
def home(request):
    if request.user.role == Role.DRIVER:
        return render(request, "portal/driver_home.html")
    if request.user.role not in CAN_VIEW_PORTAL:
        raise PermissionDenied
    reseller = request.tenant.kind == Organization.Kind.RESELLER
    figures = dashboard_figures(reseller=reseller)
    figures["children"] = request.tenant.children.count() if reseller else None
    return render(request, "portal/dashboard.html", {"figures": figures})
