"""EVzone as a benchmark target: everything that knows about EVzone's models, commands
and processes lives here, so it can be adjusted as the OCPP server (apps/csms) evolves.

Parent side (no Django imported): `EvzoneTarget` runs the setup below in a
subprocess, then starts `uvicorn config.asgi:application --workers N` on a free port.
Child side: `python -m benchmarks.evzone_target setup --chargers N` (migrate, create
the `bench` organisation, N chargers with one shared Basic-auth password, N accepted
id tags, an operator-admin API token; prints JSON) and `... count` (rows stored, for the
"no message lost" check).

Everything runs against the embedded PostgreSQL + Redis under EVZONE_VAR_DIR
(default /tmp/evz-bench: never the developer's var/), unless DATABASE_URL /
REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.servers import BASE_DIR, HOST, ServerProcess, TargetUnavailable, free_port, rss_bytes  # noqa: F401

SLUG = "bench"
PASSWORD = "bench-charger-password-2026"  # 16-40 printable characters, shared by every bench charger
ADMIN_EMAIL = "admin@bench.localhost"
SETTINGS = "benchmarks.settings"
SETUP_TIMEOUT = 600


def bench_env() -> dict:
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONUNBUFFERED": "1"}
    env["EVZONE_VAR_DIR"] = os.environ.get("EVZONE_VAR_DIR") or "/tmp/evz-bench"
    return env


def _manage_py(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [sys.executable, "-m", "benchmarks.evzone_target", *args],
            cwd=BASE_DIR,
            env={**os.environ, **bench_env()},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise TargetUnavailable(f"EVzone setup step {args[0]!r} did not finish within {timeout:.0f} s") from exc


class EvzoneTarget:
    name = "evzone"

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.server: ServerProcess | None = None
        self.port = 0
        self.workers = 1
        self.setup_info: dict = {}
        self.password = PASSWORD

    # ------------------------------------------------------------------ setup
    def prepare(self, chargers: int) -> None:
        t0 = time.monotonic()
        done = _manage_py(["setup", "--chargers", str(chargers)], SETUP_TIMEOUT)
        if done.returncode != 0:
            raise TargetUnavailable(
                "EVzone setup failed (benchmarks/evzone_target.py `setup`):\n"
                + "\n".join((done.stderr or done.stdout).splitlines()[-30:])
            )
        try:
            self.setup_info = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise TargetUnavailable(f"EVzone setup printed no JSON:\n{done.stdout[-2000:]}") from None
        self.setup_info["setup_s"] = round(time.monotonic() - t0, 1)

    def counts(self) -> dict | None:
        done = _manage_py(["count"], 120)
        if done.returncode != 0:
            return {"error": (done.stderr or done.stdout)[-1000:]}
        return json.loads(done.stdout.strip().splitlines()[-1])

    # ------------------------------------------------------------------ serving
    def start(self, workers: int = 1, *, same_port: bool = False, log_suffix: str = "") -> None:
        """`same_port`: a restart, on the port of the server before; returns as soon as
        the port accepts connections, as chargers waiting to reconnect would notice."""
        if not same_port:
            self.port = free_port()
        self.workers = workers
        # As the Procfile's web process runs it (uvicorn picks its websocket and loop
        # implementations), plus a backlog deep enough for a reconnect storm.
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--backlog",
            "4096",
            "--no-access-log",
            # A bound on every stop (the counts are taken before it): the restart storm stops
            # a server holding thousands of connections.
            "--timeout-graceful-shutdown",
            "2",
            *os.environ.get("EVZONE_BENCH_UVICORN_ARGS", "").split(),
        ]
        if workers > 1:
            argv += ["--workers", str(workers)]
        log_path = self.log_dir / f"evzone-{self.port}{log_suffix}.log"
        self.server = ServerProcess(argv, env=bench_env(), log_path=log_path)
        self.server.wait_port(self.port, 90, "EVzone (uvicorn config.asgi)")
        if same_port and workers == 1:
            # One process imports the application before it listens: open means ready.
            return
        # uvicorn --workers listens in the parent before the workers have imported Django.
        self._wait_http(90)

    def _wait_http(self, timeout: float) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                try:
                    conn.request("GET", "/healthz")
                    status = conn.getresponse().status
                finally:
                    conn.close()
                if status < 500 or status == 503:  # 503: worker/beat not running, which we do not need
                    return
                last = f"HTTP {status}"
            except Exception as exc:  # noqa: BLE001
                last = repr(exc)
            if self.server.proc.poll() is not None:
                break
            time.sleep(0.3)
        tail = self.server.log_tail()
        self.stop()
        raise TargetUnavailable(f"EVzone did not answer HTTP on port {self.port} ({last}):\n{tail}")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def server_pids(self) -> list[int]:
        return [self.server.pid] if self.server else []

    def service_pids(self) -> list[int]:
        """The embedded PostgreSQL postmaster and Redis, when they are ours."""
        var = Path(bench_env()["EVZONE_VAR_DIR"])
        pids = []
        for path in (var / "pgdata" / "postmaster.pid", var / "redis" / "redis.pid"):
            try:
                pids.append(int(path.read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        return pids

    # ------------------------------------------------------------------ what the load generator needs
    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ocpp/{SLUG}/{{ident}}"

    @property
    def api(self) -> dict:
        host = self.setup_info.get("host", f"{SLUG}.localhost")
        return {
            "host": HOST,
            "port": self.port,
            "headers": {"Host": f"{host}:{self.port}", "Authorization": f"Token {self.setup_info.get('token')}"},
        }


# ====================================================================== child side (Django)


def _setup(chargers: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    call_command("migrate_schemas", executor="standard", verbosity=0)
    call_command("bootstrap_platform", verbosity=0)

    from apps.accounts.models import User
    from apps.accounts.services import api_token_create
    from apps.chargers.models import ChargePoint, RegistrationStatus
    from apps.chargers.passwords import hash_charger_password
    from apps.charging.models import IdToken
    from apps.tenants.models import Organization
    from apps.tenants.services import organization_create
    from benchmarks.ocppj import id_tag, identity

    org = Organization.objects.filter(slug=SLUG).first()
    if org is None:
        org = organization_create(
            name="EVzone benchmark", slug=SLUG, admin_email=ADMIN_EMAIL, admin_password="bench-admin-password-2026"
        )
    with schema_context(org.schema_name):
        # One hash for all: hashing 10,000 passwords at 60,000 PBKDF2 rounds would take minutes.
        password_hash = hash_charger_password(PASSWORD)
        ChargePoint.objects.filter(identity__startswith="BENCH").update(
            password_hash=password_hash,
            security_profile=ChargePoint.SecurityProfile.BASIC,
            registration_status=RegistrationStatus.ACCEPTED,
            online=False,
        )
        have = set(ChargePoint.objects.filter(identity__startswith="BENCH").values_list("identity", flat=True))
        ChargePoint.objects.bulk_create(
            [
                ChargePoint(
                    identity=identity(i),
                    password_hash=password_hash,
                    security_profile=ChargePoint.SecurityProfile.BASIC,
                    registration_status=RegistrationStatus.ACCEPTED,
                )
                for i in range(1, chargers + 1)
                if identity(i) not in have
            ],
            batch_size=2000,
        )
        tags = set(IdToken.objects.filter(id_token__startswith="BT").values_list("id_token", flat=True))
        IdToken.objects.bulk_create(
            [IdToken(id_token=id_tag(i)) for i in range(1, chargers + 1) if id_tag(i) not in tags], batch_size=2000
        )
        user = User.objects.get(email__iexact=ADMIN_EMAIL)
        _, key = api_token_create(user=user, name=f"benchmark {time.strftime('%Y-%m-%d %H:%M:%S')}")
        total = ChargePoint.objects.filter(identity__startswith="BENCH").count()
    return {
        "organization": org.slug,
        "schema": org.schema_name,
        "host": org.primary_domain.domain,
        "token": key,
        "chargers": total,
    }


def _count() -> dict:
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from apps.charging.models import MeterValue, Transaction
    from apps.csms.models import MessageLog
    from apps.tenants.models import Organization

    org = Organization.objects.get(slug=SLUG)
    with schema_context(org.schema_name):
        return {
            "meter_value_rows": MeterValue.objects.count(),
            "meter_values_frames_logged": MessageLog.objects.filter(
                action="MeterValues", direction=MessageLog.Direction.IN, message_type=MessageLog.MessageType.CALL
            ).count(),
            "message_log_rows": MessageLog.objects.count(),
            "transactions": Transaction.objects.count(),
        }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--chargers", type=int, required=True)
    sub.add_parser("count")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    os.environ.setdefault("EVZONE_VAR_DIR", "/tmp/evz-bench")
    result = _setup(args.chargers) if args.cmd == "setup" else _count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
