"""Websocket routes. Each app that speaks websockets contributes its patterns here."""

from apps.csms.routing import websocket_urlpatterns as csms_patterns

websocket_urlpatterns: list = [*csms_patterns]
