"""A real Celery worker process runs a task in the schema it was queued from."""

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from apps.accounts.models import Role, User
from apps.accounts.tasks import send_invitation
from apps.tenants.models import Organization
from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _committed(fn):
    """Run ORM code in a thread of its own: its own connection, autocommit, so the worker
    process sees the rows (the test's own connection sits in a rolled-back transaction)."""

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def committed_invitee(db):
    # `db` makes pytest-django create the test database even when this test runs alone.
    email = f"worker-{uuid.uuid4().hex[:8]}@alpha.example"

    def create():
        org = Organization.objects.get(slug="alpha")
        with schema_context(org.schema_name):
            return org, User.objects.create_user(email, None, role=Role.TECHNICIAN)

    org, user = _committed(create)
    yield org, user

    def delete():
        with schema_context(org.schema_name):
            User.objects.filter(pk=user.pk).delete()

    _committed(delete)


def test_worker_runs_task_in_the_queuing_tenants_schema(committed_invitee, tmp_path):
    org, user = committed_invitee
    queue = f"test-{uuid.uuid4().hex[:8]}"  # keep any other worker on this Redis away from our task
    env = {
        **os.environ,
        # dev settings honour EMAIL_URL (test settings force the in-memory backend).
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"filemail:///{tmp_path}",  # environ strips one leading slash
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        celery_app.conf.task_always_eager = False
        with schema_context(org.schema_name):
            send_invitation.apply_async((user.pk, "http://alpha.localhost:8000"), queue=queue)
        deadline = time.monotonic() + 60
        while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.2)
        files = list(tmp_path.iterdir())
        if not files:
            worker.terminate()
            pytest.fail(
                "the worker did not send the invitation within 60 s:\n"
                + worker.communicate(timeout=10)[0].decode()[-3000:]
            )
        mail = files[0].read_text()
        # Found the user in alpha's schema (a public-schema lookup would find nobody) and
        # built the link for alpha's domain.
        assert user.email in mail
        assert "Alpha Charging" in mail
        assert "http://alpha.localhost:8000/accounts/invitation/" in mail
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(10)
