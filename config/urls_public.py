"""URLs on the platform's own host (BASE_DOMAIN): the back office for platform staff, and the
webhooks of the platform's own payment gateway accounts."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from apps.tenants import views as tenant_views

urlpatterns = [
    path("", TemplateView.as_view(template_name="tenants/platform_home.html"), name="platform-home"),
    path("accounts/", include("apps.accounts.urls")),
    path("admin/", admin.site.urls),
    # Webhooks of the platform's own gateway accounts; each event names its organisation.
    path("payments/webhooks/platform/", include("apps.payments.urls_platform")),
]
# Uploads, in every setting, checked per organisation (apps/tenants/views.py).
urlpatterns += [re_path(r"^" + settings.MEDIA_URL.lstrip("/") + r"(?P<path>.+)$", tenant_views.media, name="media")]
