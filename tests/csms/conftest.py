"""End-to-end fixtures: a live uvicorn process serving config.asgi against the
test database and the real Redis channel layer, and an organisation of its own.

A live server cannot see data inside a test's rolled-back transaction, so
end-to-end tests write through `server.run(...)`, which runs in a thread of its
own (its own connection, autocommit) and `e2e_db` deletes it all afterwards.
The tests still request `db` (it makes pytest-django create the test database
when only e2e tests are selected); the main thread's transaction just stays
empty. Never `transactional_db`: its flush would delete the session's
organisations.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.tenants.models import Organization
from tests.conftest import PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
E2E_SLUG = "ocpp-e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, port: int, org: Organization, log_path: Path):
        self.port = port
        self.org = org
        self.schema = org.schema_name
        self.host = org.e2e_host
        self.log_path = log_path

    def url(self, identity: str, *, by_path: bool = True, host: str | None = None) -> str:
        if by_path:
            return f"ws://127.0.0.1:{self.port}/ocpp/{self.org.slug}/{identity}"
        return f"ws://{host or self.host}:{self.port}/ocpp/{identity}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def run(self, fn, /, **kwargs):
        """Run ORM code committed, in the e2e schema, from a short-lived thread."""
        return run_committed(self.schema, fn, **kwargs)


def run_committed(schema: str, fn, /, **kwargs):
    box: dict = {}

    def target():
        try:
            with schema_context(schema):
                box["value"] = fn(**kwargs)
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc
        finally:
            # A connection left open would block dropping the test database.
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.fixture(scope="session")
def e2e_org(django_db_setup, django_db_blocker) -> Organization:
    from apps.tenants.services import organization_create

    with django_db_blocker.unblock():
        org = Organization.objects.filter(slug=E2E_SLUG).first()
        if org is None:
            org = organization_create(
                name="OCPP e2e", slug=E2E_SLUG, admin_email="admin@ocpp-e2e.example", admin_password=PASSWORD
            )
        org.e2e_host = org.primary_domain.domain
    return org


def start_server(org: Organization, log_path: Path) -> tuple[subprocess.Popen, LiveServer]:
    """Start `uvicorn config.asgi:application` on a free port, serving the test database."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.csms.e2e_settings",
        "EVZONE_TEST_DB_NAME": connection.settings_dict["NAME"],
        "PYTHONUNBUFFERED": "1",
        # Profile 3 behind a TLS proxy that passes the client certificate's CN.
        "OCPP_CLIENT_CERT_HEADER": "X-SSL-Client-CN",
    }
    argv = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--log-level", "warning", "--timeout-graceful-shutdown", "1"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(port, org, log_path)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, server
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("live OCPP server did not start:\n" + server.log()) from None
            time.sleep(0.05)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def live_server_ocpp(e2e_org, tmp_path_factory):
    proc, server = start_server(e2e_org, tmp_path_factory.mktemp("ocpp-server") / "server.log")
    yield server
    stop_server(proc)


def wipe_ocpp_tables_here() -> None:
    from apps.accounts.models import User

    # Sessions that ended were priced: their CDRs and receipts are immutable (no delete()
    # by design), so empty those tables wholesale first.
    from apps.billing.models import ChargeDetailRecord, Invoice, InvoiceDelivery, InvoiceLine
    from apps.chargers.models import ChargePoint, Location
    from apps.charging.models import IdToken, MeterValue, Transaction
    from apps.csms.models import Command, CsmsSettings, MessageLog

    with connection.cursor() as cursor:
        tables = ", ".join(m._meta.db_table for m in (InvoiceDelivery, InvoiceLine, Invoice, ChargeDetailRecord))
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    for model in (MeterValue, Transaction, IdToken, Command, MessageLog, ChargePoint, Location, CsmsSettings):
        model.objects.all().delete()
    User.objects.exclude(email="admin@ocpp-e2e.example").delete()


class CommittedClient:
    """Django's test client with an API token, every request made from its own thread
    (committed reads and writes, like a request to a real server)."""

    def __init__(self, server: LiveServer, key: str):
        from django.test import Client

        self.server = server
        self.client = Client(HTTP_HOST=server.host, HTTP_AUTHORIZATION=f"Token {key}")

    def get(self, path, **kwargs):
        return self.server.run(lambda: self.client.get(path, **kwargs))

    def post(self, path, data=None, **kwargs):
        return self.server.run(lambda: self.client.post(path, data, content_type="application/json", **kwargs))


@pytest.fixture
def api_client(e2e_db):
    """api_client(role) -> a CommittedClient authenticated as a new user with that role."""
    from apps.accounts.services import api_token_create
    from tests.factories.accounts import UserFactory

    def make(role) -> CommittedClient:
        user = e2e_db.run(UserFactory, role=role)
        _, key = e2e_db.run(api_token_create, user=user, name="e2e")
        return CommittedClient(e2e_db, key)

    return make


@pytest.fixture
def e2e_db(live_server_ocpp, db):
    """The live server, with the e2e organisation's OCPP tables emptied before and after."""
    live_server_ocpp.run(wipe_ocpp_tables_here)
    yield live_server_ocpp
    # Log rows the server flushes after this (up to half a second late) carry ids of
    # deleted chargers only; the next test's wipe removes them.
    live_server_ocpp.run(wipe_ocpp_tables_here)
