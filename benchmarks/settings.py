"""Settings for EVzone under benchmark: production-like (DEBUG off, so no query log
grows in memory), any host allowed (the load comes from 127.0.0.1 only), quiet logs.
Database and Redis come from the environment or the embedded servers, as in base."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["*"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {**LOGGING, "root": {**LOGGING.get("root", {}), "level": "WARNING"}}

# Experiments for issue 8, off unless asked for so the default run measures base's settings:
# EVZONE_BENCH_SWITCH_INTERVAL=0.0005 shortens CPython's GIL switch interval (default 5 ms):
# a database thread woken by PostgreSQL's answer waits up to that long for the event loop.
if os.environ.get("EVZONE_BENCH_SWITCH_INTERVAL"):
    import sys

    sys.setswitchinterval(float(os.environ["EVZONE_BENCH_SWITCH_INTERVAL"]))
