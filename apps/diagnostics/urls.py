"""Public (no login) URLs on an organisation's domain, mounted at /diagnostics/ by
config/urls_tenant.py. services.logs.upload_base_url builds the same path."""

from django.urls import re_path

from apps.diagnostics import views

app_name = "diagnostics"

urlpatterns = [
    # <token>/, <token> and <token>/<file name>: stations that append their file name to
    # the location (1.6 GetDiagnostics, many 2.x firmwares) land on the same request.
    re_path(r"^upload/(?P<token>[A-Za-z0-9_-]{20,64})/?$", views.log_upload, name="log_upload"),
    re_path(r"^upload/(?P<token>[A-Za-z0-9_-]{20,64})/(?P<filename>[^/]{1,255})$", views.log_upload),
]
