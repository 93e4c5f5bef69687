"""ASGI entry point: HTTP to Django, websockets to Channels consumers.

The OCPP endpoints (/ocpp/...) are added by apps.csms when it exists.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# Django must be set up before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402


def _warm_up() -> None:
    """Import every view now, not in the first request: a fresh process otherwise makes its
    first API call (often a command to a charger) wait ~600 ms for lazy URLconf imports."""
    from django.conf import settings
    from django.urls import get_resolver

    for urlconf in {settings.ROOT_URLCONF, getattr(settings, "PUBLIC_SCHEMA_URLCONF", settings.ROOT_URLCONF)}:
        get_resolver(urlconf).url_patterns  # noqa: B018  (evaluating it is the point)


_warm_up()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
