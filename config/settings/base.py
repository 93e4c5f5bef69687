"""Settings shared by every environment. Everything that differs between machines
comes from the environment (12-factor); see README "Configuration"."""

from pathlib import Path
from urllib.parse import unquote

import environ

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
# Organisations get <slug>.<BASE_DOMAIN>; the platform back office lives on BASE_DOMAIN itself.
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}", "127.0.0.1"])
# Where links in e-mails point: scheme and optional port appended to a tenant domain.
PUBLIC_SCHEME = env("PUBLIC_SCHEME", default="http")
PUBLIC_PORT = env("PUBLIC_PORT", default="8000")

# --------------------------------------------------------------------------- apps
# Tenancy decision (README "Architecture"): the public schema holds organisations,
# domains, platform staff and the schedulers; every operator-owned table lives in
# the organisation's own schema. `accounts` is in both: platform staff are users of
# the public schema, an operator's users exist only in that operator's schema, so a
# login on one organisation's domain can never authenticate against another's.
SHARED_APPS = [
    "django_tenants",
    "apps.tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "apps.accounts",
    "apps.core",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "import_export",
    "apps.simulator",
    # ECB exchange rates: public data, the same for every organisation (apps.fx docstring).
    "apps.fx",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "axes",
    "apps.accounts",
    "apps.portal",
    "apps.chargers",
    "apps.charging",
    "apps.csms",
    "apps.tariffs",
    "apps.qr",
    "apps.billing",
    "apps.wallets",
    "apps.payments",
    "apps.devicemodel",
    "apps.certificates",
    "apps.smartcharging",
    "apps.diagnostics",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Organization"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Tenant creation runs migrations synchronously; it is done by a service, not a signal.
TENANT_CREATION_FAKES_MIGRATIONS = False

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "apps.core.middleware.HealthCheckMiddleware",
    "apps.core.middleware.NulCharacterMiddleware",
    "apps.tenants.middleware.OrganizationMiddleware",
    "apps.tenants.middleware.OrganizationTimezoneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.tenants.context_processors.organization",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --------------------------------------------------------------------------- database
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Allow a unix socket directory as a percent-encoded host (postgres://u@%2Frun%2Fpg/db).
    DATABASES["default"]["HOST"] = unquote(str(DATABASES["default"].get("HOST") or ""))
else:
    DATABASES = {"default": embedded.postgres_settings()}
# django-tenants' backend, sending `SET search_path` only when the session needs it (see the module).
DATABASES["default"]["ENGINE"] = "apps.core.postgresql_backend"
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Opt in to Django 6 behaviour now: URLs typed without a scheme are https.
FORMS_URLFIELD_ASSUME_HTTPS = True

# --------------------------------------------------------------------------- redis, cache, channels, celery
REDIS_URL = env("REDIS_URL", default="") or embedded.redis_url()


def _celery_redis_url(url: str) -> str:
    # kombu spells a unix socket "redis+socket://"; redis-py and channels say "unix://".
    return "redis+socket://" + url[len("unix://") :] if url.startswith("unix://") else url


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "evzone",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # socket_timeout must be None, explicitly (redis-py 8 defaults it to 5 s). With any
            # value redis-py writes each command through asyncio.wait_for(), which on Python
            # 3.11 swallows a cancellation landing as the write completes (CPython gh-86296,
            # fixed in 3.12 only). Channels cancels a consumer's receive when its websocket
            # closes; swallowed, channels-redis's receive() looped BZPOPMIN forever and
            # uvicorn never exited on SIGTERM (tests/csms/test_e2e_shutdown.py). A timeout
            # is not needed: BZPOPMIN returns within 5 s server-side, and redis-py 8's
            # default TCP keepalive (30 s idle + 3 x 5 s probes) notices a dead server.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None, "socket_connect_timeout": 5}],
            "prefix": "evzone",
        },
    }
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=_celery_redis_url(REDIS_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Every task of ours sets its own limits (tests/core/test_task_limits.py); these cover any
# other task (Celery's own, a library's). The soft limit raises SoftTimeLimitExceeded in the
# task so it can stop cleanly; the hard one kills the worker child a minute later whatever
# the task is doing (a call stuck in C code, an exception handler that swallowed the soft one).
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# Heartbeat interval (seconds) that beat and worker use to prove they are alive (/healthz).
HEARTBEAT_INTERVAL = env.int("HEARTBEAT_INTERVAL", default=30)

# --------------------------------------------------------------------------- auth
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 7  # invitations are reset tokens; a week to accept

# Brute force: lock an (username, IP) pair after 5 failures for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# The key is the address as sign-in matches it (trimmed, any case): apps/accounts/identity.py.
AXES_USERNAME_CALLABLE = "apps.accounts.identity.axes_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --------------------------------------------------------------------------- i18n, static
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Map tiles for the locations map (empty: markers on a plain background, e.g. offline).
MAP_TILE_URL = env("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")

# --------------------------------------------------------------------------- Content-Security-Policy
# django-csp sends it on every response. No inline script or event handler anywhere (pages share
# static/js/page.js), so script-src is our origin plus the payment providers' SDKs where a
# checkout page loads them: Stripe.js (docs.stripe.com/security/guide#content-security-policy)
# and Adyen Web Drop-in (checkoutshopper-<environment>.adyen.com). Styles allow inline
# attributes (the brand colour, layout tweaks): a style cannot run code. Map tiles come from
# MAP_TILE_URL's origin.
from urllib.parse import urlsplit as _urlsplit  # noqa: E402

from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

_tiles = _urlsplit(MAP_TILE_URL)
_TILE_ORIGIN = [f"{_tiles.scheme}://{_tiles.netloc}"] if _tiles.scheme in ("http", "https") else []
_STRIPE = ["https://js.stripe.com", "https://*.js.stripe.com"]
_ADYEN = ["https://*.adyen.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, *_STRIPE, *_ADYEN],
        "style-src": [SELF, UNSAFE_INLINE, *_ADYEN],
        "img-src": [SELF, "data:", *_TILE_ORIGIN, "https://*.stripe.com", *_ADYEN],
        "font-src": [SELF, *_ADYEN],
        "connect-src": [SELF, "https://api.stripe.com", "https://*.stripe.com", *_ADYEN],
        "frame-src": [SELF, *_STRIPE, "https://hooks.stripe.com", *_ADYEN],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [SELF],
    }
}

# --------------------------------------------------------------------------- e-mail
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"EVzone <no-reply@{BASE_DOMAIN}>")

# --------------------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each view declares its rule per action (apps/accounts/policy.py); undeclared is refused.
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.Policy"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.filters.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EVzone API",
    "DESCRIPTION": "Operator API of an EVzone organisation. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --------------------------------------------------------------------------- OCPP central system
# Read by apps/csms and apps/chargers; the import-time ones (marked) take effect at process
# start, as the OCPP hot path never looks them up again. README "Configuration" says what each does.
OCPP_CLIENT_CERT_HEADER = env("OCPP_CLIENT_CERT_HEADER", default="")  # import time
OCPP_HANDSHAKE_BUDGET = env.float("OCPP_HANDSHAKE_BUDGET", default=10.0)  # import time
OCPP_LAYER_CONCURRENCY = env.int("OCPP_LAYER_CONCURRENCY", default=48)  # import time
OCPP_DB_THREADS = env.int("OCPP_DB_THREADS", default=8)  # import time
OCPP_COMMAND_DB_THREADS = env.int("OCPP_COMMAND_DB_THREADS", default=2)  # import time
OCPP_LOOP_WATCHDOG_MS = env.int("OCPP_LOOP_WATCHDOG_MS", default=0)
OCPP_AUTH_CACHE_SECONDS = env.int("OCPP_AUTH_CACHE_SECONDS", default=24 * 3600)
# OCSP checks of certificates of other PKIs (apps/certificates/ocsp.py; README "Configuration"):
# Authorize with iso15118CertificateHashData and GetCertificateStatus. The request runs on the
# OCPP hot path (a database thread), hence the short timeout and the cache.
OCPP_OCSP_TIMEOUT = env.float("OCPP_OCSP_TIMEOUT", default=4.0)
OCPP_OCSP_CACHE_SECONDS = env.int("OCPP_OCSP_CACHE_SECONDS", default=3600)  # when no nextUpdate
OCPP_OCSP_FAILURE_CACHE_SECONDS = env.int("OCPP_OCSP_FAILURE_CACHE_SECONDS", default=60)
# The responder URL comes from the EV via the charger: private, loopback, link-local and
# reserved addresses are refused unless this is set (SSRF).
OCPP_OCSP_ALLOW_PRIVATE = env.bool("OCPP_OCSP_ALLOW_PRIVATE", default=False)
# Local policy when no certificate status can be obtained (responder down, bad answer): accept
# on the eMAID alone (certificateStatus left out) or refuse (Invalid, NoCertificateAvailable).
OCPP_OCSP_ACCEPT_UNVERIFIED = env.bool("OCPP_OCSP_ACCEPT_UNVERIFIED", default=False)
# Limits of one inbound frame, checked before it is handled (apps/csms/protocol.py); over
# them a CALL is answered FormationViolation (1.6) / FormatViolation (2.x). 512 KiB: the
# largest real frames are a few tens of KB (a 1.6 GetConfiguration answer, 2.x certificate
# chains of ~10 KB each, NotifyReport split to the station's BytesPerMessage), so a charger
# never comes near it while a 4 MiB DataTransfer does. 64 levels: the deepest payload of the
# 1.6 / 2.0.1 / 2.1 schemas is about ten levels (2.1 tariffs and V2X schedules), 64 leaves
# vendor DataTransfer data room and keeps every recursive walk of a payload (key conversion,
# redaction, orjson's own limit of 255) far from Python's recursion limit.
OCPP_MAX_FRAME_BYTES = env.int("OCPP_MAX_FRAME_BYTES", default=512 * 1024)  # import time
OCPP_MAX_FRAME_DEPTH = env.int("OCPP_MAX_FRAME_DEPTH", default=64)  # import time
# The message log stores a payload (or an unparseable frame's text) larger than this cut to
# this size, with a note saying so: a few outsized frames must not fill the table.
OCPP_LOG_MAX_PAYLOAD_BYTES = env.int("OCPP_LOG_MAX_PAYLOAD_BYTES", default=64 * 1024)  # import time

# --------------------------------------------------------------------------- secrets at rest
# Fernet key for gateway credentials and CA private keys (apps/core/crypto.py). Empty: derived
# from SECRET_KEY, which then must never rotate (stored secrets would become unreadable).
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

# --------------------------------------------------------------------------- payments
# The platform's own gateway accounts (apps/payments/platform.py). Empty: organisations
# must enter their own credentials; set: they may choose "use the platform's account".
EVZONE_STRIPE_SECRET_KEY = env("EVZONE_STRIPE_SECRET_KEY", default="")
EVZONE_STRIPE_PUBLISHABLE_KEY = env("EVZONE_STRIPE_PUBLISHABLE_KEY", default="")
EVZONE_STRIPE_WEBHOOK_SECRET = env("EVZONE_STRIPE_WEBHOOK_SECRET", default="")
EVZONE_ADYEN_API_KEY = env("EVZONE_ADYEN_API_KEY", default="")
EVZONE_ADYEN_MERCHANT_ACCOUNT = env("EVZONE_ADYEN_MERCHANT_ACCOUNT", default="")
EVZONE_ADYEN_CLIENT_KEY = env("EVZONE_ADYEN_CLIENT_KEY", default="")
EVZONE_ADYEN_HMAC_KEY = env("EVZONE_ADYEN_HMAC_KEY", default="")
EVZONE_ADYEN_LIVE_ENDPOINT_PREFIX = env("EVZONE_ADYEN_LIVE_ENDPOINT_PREFIX", default="")
EVZONE_PAYMENTS_LIVE = env.bool("EVZONE_PAYMENTS_LIVE", default=False)

# --------------------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
