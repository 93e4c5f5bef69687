"""URLs on an organisation's own domain (<slug>.<BASE_DOMAIN> or a custom domain)."""

from django.conf import settings
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.admin_sites import operator_admin_site
from apps.tenants import views as tenant_views

urlpatterns = [
    path("", include("apps.portal.urls")),
    path("", include("apps.portal.qr.urls")),
    path("billing/", include("apps.portal.billing.urls")),
    path("tariffs/", include("apps.portal.tariffs.urls")),
    path("wallets/", include("apps.portal.wallets.urls")),
    path("payments/", include("apps.portal.payments.urls")),
    path("diagnostics/", include("apps.diagnostics.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("admin/", operator_admin_site.urls),
    path("api/v1/", include(("config.api", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
# Uploads, in every setting, checked per organisation (apps/tenants/views.py).
urlpatterns += [re_path(r"^" + settings.MEDIA_URL.lstrip("/") + r"(?P<path>.+)$", tenant_views.media, name="media")]
