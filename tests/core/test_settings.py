"""Production settings refuse unsafe configuration; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3J9-x" * 10


def _run(*args, **env):
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.prod", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DEBUG": "true", "SECRET_KEY": GOOD_SECRET}, "DEBUG must be off"),
        ({"DEBUG": "false", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "insecure-dev-key-change-me"}, "SECRET_KEY"),
    ],
)
def test_prod_settings_refuse_to_start(env, message):
    result = _run("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_production_environment():
    result = _run(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=GOOD_SECRET,
        DEBUG="false",
        ALLOWED_HOSTS=".evzone.example",
        BASE_DOMAIN="evzone.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_conn_max_age_is_the_per_database_one_and_follows_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['CONN_MAX_AGE'], hasattr(s, 'CONN_MAX_AGE'), s.DATABASES['default']['ENGINE'])"
    )
    for env, expected in (({}, "0 False"), ({"CONN_MAX_AGE": "60"}, "60 False")):
        result = _run("shell", "-c", code, SECRET_KEY=GOOD_SECRET, DEBUG="false", **env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1].split() == [*expected.split(), "apps.core.postgresql_backend"]
