"""Uploaded files under MEDIA_URL, in every setting (not Django's DEBUG-only `static()`, which
served every organisation's uploads on every host, with no login, by a predictable path).

The only uploads a browser may fetch directly are an organisation's branding (its logo, shown
on its sign-in and portal pages), and only on that organisation's own hosts. Everything else
(diagnostics and log files) is served by pages that check the organisation and the role
(portal:diagnostics_log_download)."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe


@require_safe
def media(request, path: str):
    org = getattr(request, "tenant", None)
    logo = org.logo.name if org is not None and org.logo else ""
    if not logo or path != logo or not default_storage.exists(logo):
        raise Http404("No such file.")
    response = FileResponse(default_storage.open(logo, "rb"))
    # A logo is public branding; a changed logo gets a new file name (Django keeps both apart).
    patch_cache_control(response, public=True, max_age=3600)
    return response
