"""URLs on the platform's own host (BASE_DOMAIN): the back office for platform staff, and the
webhooks of the platform's own payment gateway accounts."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="tenants/platform_home.html"), name="platform-home"),
    path("accounts/", include("apps.accounts.urls")),
    path("admin/", admin.site.urls),
    # Webhooks of the platform's own gateway accounts; each event names its organisation.
    path("payments/webhooks/platform/", include("apps.payments.urls_platform")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
