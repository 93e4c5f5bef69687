"""Settings for EVzone under benchmark: production-like (DEBUG off, so no query log
grows in memory), any host allowed (the load comes from 127.0.0.1 only), quiet logs.
Database and Redis come from the environment or the embedded servers, as in base."""

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["*"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {**LOGGING, "root": {**LOGGING.get("root", {}), "level": "WARNING"}}
