"""Browser tests: Debian's chromium driven by Playwright against the live ASGI server of
the end-to-end tests (real HTTP, real websockets, real PostgreSQL and Redis).

Skipped with a reason when /usr/bin/chromium is absent (`.ci/run` installs it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The live server and its committed-data helpers are shared with the OCPP end-to-end tests.
from tests.csms.conftest import e2e_db, e2e_org, live_server_ocpp  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
BASE_DIR = Path(__file__).resolve().parents[2]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Organisation hosts are *.localhost; the OS resolver here does not know them.
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API keeps its event loop marked as running on this
    # thread while it is open, which would break later tests that call asyncio.run().
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, so Django's async guard would
    # refuse the test database's own setup and teardown here; the tests' ORM work runs in
    # threads of their own (server.run). Lifted only while this module's browser is open:
    # a leftover variable would fail `check --deploy` in later tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def simulator(e2e_db):  # noqa: F811  (the fixture imported above)
    """simulator(identity, password) starts one simulated OCPP 1.6 charger (the project's own
    simulator, a separate process) against the live server; stopped after the test."""
    procs = []

    def start(prefix: str, password: str, **extra):
        url = f"ws://127.0.0.1:{e2e_db.port}/ocpp/{e2e_db.org.slug}/"
        args = [
            sys.executable,
            "-m",
            "apps.simulator",
            "--count",
            "1",
            "--prefix",
            prefix,
            "--url",
            url,
            "--password",
            password,
            "--session-every",
            "0",
            "--meter-interval",
            "2",
            "--speedup",
            "30",
            "--duration",
            "90",
            "--progress",
            "0",
            "--seed",
            "7",
        ]
        for key, value in extra.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        proc = subprocess.Popen(args, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
