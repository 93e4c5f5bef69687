from django.contrib import admin


class OperatorAdminSite(admin.AdminSite):
    """The Django admin an operator's admins see on their own domain.

    The default `admin.site` is the platform back office, mounted only on the
    public site; tenant models register here so that public models (organisations,
    schedules) can never show up on an operator's domain.
    """

    site_header = "EVzone back office"
    site_title = "EVzone"
    index_title = "Your organisation"

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = f"{tenant.name} — back office"
        return context


operator_admin_site = OperatorAdminSite(name="operator_admin")

admin.site.site_header = "EVzone platform back office"
admin.site.site_title = "EVzone platform"
admin.site.index_title = "Platform administration"
