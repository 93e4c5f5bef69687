from django.urls import re_path

from apps.csms.consumers import OcppConsumer
from apps.csms.middleware import OcppTenantMiddleware

_consumer = OcppTenantMiddleware(OcppConsumer.as_asgi())

websocket_urlpatterns = [
    re_path(r"^ocpp/(?P<identity>[^/]+)/?$", _consumer),
    re_path(r"^ocpp/(?P<org>[a-z][a-z0-9-]{1,40})/(?P<identity>[^/]+)/?$", _consumer),
]
