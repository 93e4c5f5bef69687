"""CI smoke test of the benchmark harness against EVzone itself (issue 8): 50 chargers,
steady fleet for a few seconds, a reconnect storm and API commands during the fleet.
It checks counts — everyone connected and Accepted, nothing dropped, every call
answered without error, every command delivered, every MeterValues frame answered
stored — never timing.

`python -m benchmarks.run --target evzone` runs in a subprocess against a database of
its own (`test_<name>_bench`) on the PostgreSQL server this test session already uses
(embedded or DATABASE_URL), created fresh and dropped afterwards: the bench
organisation never meets the session's tenants, and no second PostgreSQL is started.
Migrating that empty database is most of the set-up cost (~10 s).
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
import pytest
from django.conf import settings

from tests.benchmarks.bench import assert_storm_all_accepted

BASE_DIR = Path(__file__).resolve().parents[2]
CHARGERS = 50
DURATION = 8
COMMAND_RATE = 5

pytestmark = [pytest.mark.e2e]


def _server_kwargs(db: dict) -> dict:
    return {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }


def _database_url(db: dict, name: str) -> str:
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # A unix socket directory travels percent-encoded; config/settings/base.py unquotes it.
    host = quote(str(db.get("HOST") or ""), safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{auth}{host}{port}/{name}{query}"


def _drop(server: dict, name: str) -> None:
    with psycopg.connect(**server) as conn:
        # FORCE: a server process killed mid-run may have left connections behind.
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def bench_database():
    """A fresh, empty database on the session's PostgreSQL server; dropped afterwards."""
    db = settings.DATABASES["default"]
    # pytest-django renames NAME to test_<NAME> once the test database exists.
    base = db["NAME"].removeprefix("test_")
    name = f"test_{base}_bench{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    server = _server_kwargs(db)
    _drop(server, name)
    with psycopg.connect(**server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(db, name)
    finally:
        _drop(server, name)


@pytest.fixture(scope="module")
def smoke(bench_database, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("bench-evzone")
    out = work / "smoke.json"
    env = {
        **os.environ,
        "DATABASE_URL": bench_database,
        "REDIS_URL": settings.REDIS_URL,
        # No Celery worker runs here, and the Redis may be the developer's (var/): tasks the
        # server queues (transaction_start's) stay in its memory instead of waiting in Redis
        # for a worker that would run them against a database dropped by then.
        "CELERY_BROKER_URL": "memory://localhost/",
        # Nothing under any var/: with both URLs set, the embedded servers are never started.
        "EVZONE_VAR_DIR": str(work / "var"),
    }
    # Calls every 1-3 s instead of 30-60 s, so a few seconds exercise the whole mix.
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--target",
        "evzone",
        "--scenario",
        "steady,storm,commands",
        "--storm-mode",
        "cold",
        "--chargers",
        str(CHARGERS),
        "--duration",
        str(DURATION),
        "--interval",
        "1,3",
        "--command-rate",
        str(COMMAND_RATE),
        "--storm-deadline",
        "30",
        "--max-runtime",
        "240",
        "--json",
        str(out),
    ]
    proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        # SIGINT, not SIGKILL: the harness stops the servers it started (own sessions) on the way out.
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
        pytest.fail(f"benchmarks.run did not finish within 300 s:\n{output[-5000:]}")
    assert proc.returncode == 0, output[-5000:]
    data = json.loads(out.read_text())
    assert data["error"] is None, data["error"]
    return {row["scenario"]: row for row in data["results"]}


def _assert_fleet_clean(row: dict) -> None:
    fleet = row["fleet"]
    assert row["target"] == "evzone"
    assert row["connected"] == CHARGERS
    assert fleet["open_at_end"] == CHARGERS
    assert fleet["connect_failures"] == {}
    assert fleet["rejected"] == {}
    assert fleet["errors"] == {}
    assert fleet["dropped"] == 0
    assert fleet["unanswered"] == 0
    assert fleet["sent"] > CHARGERS  # each charger went through several calls of the mix
    assert fleet["answered"] == fleet["sent"]
    assert set(fleet["by_action"]) >= {"Heartbeat", "StatusNotification", "StartTransaction", "MeterValues"}


def _assert_all_persisted(row: dict) -> None:
    persisted = row["persisted"]
    assert "error" not in persisted, persisted
    assert persisted["meter_values_frames_answered"] == row["fleet"]["by_action"]["MeterValues"]
    assert persisted["meter_value_rows"] > 0
    assert persisted["lost_meter_value_rows"] == 0
    assert persisted["meter_value_rows"] == persisted["meter_value_rows_expected"]


def test_steady_fleet_every_call_answered_and_stored(smoke):
    row = smoke["steady"]
    _assert_fleet_clean(row)
    _assert_all_persisted(row)


def test_storm_all_accepted(smoke):
    row = smoke["storm"]
    assert_storm_all_accepted(row, CHARGERS)
    assert row["persisted"]["lost_meter_value_rows"] == 0


def test_commands_all_delivered_during_fleet(smoke):
    row = smoke["commands"]
    _assert_fleet_clean(row)
    _assert_all_persisted(row)
    commands = row["commands"]
    assert commands["issued"] >= COMMAND_RATE * DURATION - 1
    assert commands["outcome"] == {"ok": commands["issued"]}
    assert commands["ok"] == commands["issued"]
    assert row["fleet"]["commands_received"] == commands["issued"]  # each reached its charger once
