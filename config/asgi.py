"""ASGI entry point: HTTP to Django, websockets to Channels consumers.

The OCPP endpoints (/ocpp/...) are added by apps.csms when it exists.
"""

import gc
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


def _tune_gc() -> None:
    """A web process keeps every connected charger's objects (~130 tracked by the garbage
    collector each: protocol, consumer, session, tasks); with 10,000 chargers a full
    collection walks 1.5 million objects and stops the event loop for up to a second,
    every 7-15 s under CPython's default thresholds (700, 10, 10), because objects of
    in-flight requests keep being promoted to the oldest generation. Measured with
    OCPP_LOOP_WATCHDOG_MS during a 10,000-charger steady fleet.

    - gc.freeze(): everything loaded at start-up (Django, the URLconfs, ~250,000 objects)
      moves to the permanent generation, which no collection walks again.
    - A young generation of 50,000 allocations instead of 700: requests finish before a
      collection, so far fewer of their objects are promoted, and full collections become
      rare. Cyclic garbage is still collected, young cycles as often as before in time.
    OCPP_GC_THRESHOLDS="a,b,c" overrides the thresholds; "default" keeps CPython's."""
    setting = os.environ.get("OCPP_GC_THRESHOLDS", "50000,20,20")
    gc.collect()
    gc.freeze()
    if setting != "default":
        gc.set_threshold(*(int(part) for part in setting.split(",")))


_tune_gc()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
