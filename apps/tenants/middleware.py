from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware


class OrganizationMiddleware(TenantMainMiddleware):
    """Resolve the organisation from the Host header (django-tenants), with clear pages
    for a host nobody owns and for a suspended organisation instead of a bare 404/500."""

    def no_tenant_found(self, request, hostname):
        return render(request, "tenants/unknown_host.html", {"hostname": hostname}, status=404)

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = request.tenant
        if tenant.is_suspended:
            return render(request, "tenants/suspended.html", {"organization": tenant}, status=403)
        return None


class OrganizationTimezoneMiddleware:
    """Show times in the organisation's own time zone (stored times stay UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import timezone

        tenant = getattr(request, "tenant", None)
        name = getattr(tenant, "timezone", None)
        # The API keeps answering in UTC: scripts and roaming peers compare timestamps.
        if name and not request.path.startswith("/api/"):
            try:
                timezone.activate(name)
            except Exception:  # a bad stored zone must never take the site down
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
