"""Settings for the live ASGI server the end-to-end tests start: the test settings,
pointed at pytest-django's test database (where the session's organisations live)."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["EVZONE_TEST_DB_NAME"]
