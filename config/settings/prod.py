"""Production. Refuses to start with DEBUG on or without a real SECRET_KEY."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production settings.")
if SECRET_KEY.startswith("insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")

# TLS is terminated by the ASGI server or a proxy in front of it (docs/deploy.md).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancer probes hit /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
PUBLIC_SCHEME = "https"
PUBLIC_PORT = env("PUBLIC_PORT", default="")
# No `CONN_MAX_AGE = 60` here (there was one): Django reads only the per-database
# DATABASES["default"]["CONN_MAX_AGE"], which base.py sets from the CONN_MAX_AGE variable (or
# `?conn_max_age=` in DATABASE_URL), so it never took effect. It stays 0 by default on purpose:
# the web process is ASGI, where Django says to disable persistent connections (a sync view's
# thread need not come back, and its connection would stay open), and the OCPP database pool
# keeps its connections whatever the setting (apps/csms/db.py). A worker-only CONN_MAX_AGE is
# fine; either way the backend keeps session state per connection (docs/deploy.md).
