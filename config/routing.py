"""Websocket routes. Each app that speaks websockets contributes its patterns here."""

websocket_urlpatterns: list = []
