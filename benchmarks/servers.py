"""Servers under test: starting, waiting for, measuring (psutil) and stopping them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # benchmarks only ever target this machine


class TargetUnavailable(RuntimeError):
    """The server under test could not be set up or started; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


RUNNING: list[ServerProcess] = []


def stop_all() -> None:
    """Stop every server this process started (they run in sessions of their own, so
    they would not die with us)."""
    for server in list(RUNNING):
        server.stop()


class ServerProcess:
    """A server subprocess with its output in a log file."""

    def __init__(self, argv: list[str], *, env: dict | None = None, log_path: Path, cwd: Path = BASE_DIR):
        self.argv = argv
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        RUNNING.append(self)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_port(self, port: int, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise TargetUnavailable(
                    f"{what} exited with code {self.proc.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TargetUnavailable(
                        f"{what} did not listen on {HOST}:{port} within {timeout:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                # Only our own process group (start_new_session): the server and its workers.
                try:
                    os.killpg(self.proc.pid, 9)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)


def process_tree(pids: list[int]) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs.append(p)
            procs.extend(p.children(recursive=True))
        except psutil.NoSuchProcess:
            pass
    return procs


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for p in process_tree(pids):
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    out = {}
    for p in process_tree(pids):
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return out


class ResourceMeter:
    """CPU of a process tree over a window (100% = one core) and its peak RSS, sampled
    twice a second in a thread."""

    def __init__(self, pids_fn):
        self.pids_fn = pids_fn
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu0: dict[int, float] = {}
        self._t0 = 0.0
        self.cpu_pct = 0.0
        self.window_s = 0.0

    def start(self) -> None:
        self._cpu0 = cpu_seconds(self.pids_fn())
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_rss = max(self.peak_rss, rss_bytes(self.pids_fn()))

    def stop(self) -> dict:
        cpu1 = cpu_seconds(self.pids_fn())
        self.window_s = time.monotonic() - self._t0
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        self.peak_rss = max(self.peak_rss, rss_bytes(self.pids_fn()))
        used = sum(cpu1[pid] - self._cpu0.get(pid, 0.0) for pid in cpu1)
        self.cpu_pct = round(100 * used / self.window_s, 1) if self.window_s else 0.0
        return {"cpu_pct": self.cpu_pct, "cpu_s": round(used, 2), "peak_rss_mb": round(self.peak_rss / 2**20, 1)}


class PySpy:
    """`py-spy record` on every server process over a window, one profile per process: a
    flame graph (SVG), speedscope JSON, or raw collapsed stacks to grep. Only the threads
    holding the GIL are sampled (`--gil`): the server is GIL-bound, and a thread waiting for
    PostgreSQL is not where the time goes. Needs ptrace rights on the servers (root, or
    kernel.yama.ptrace_scope 0)."""

    EXTENSIONS = {"flamegraph": "svg", "speedscope": "json", "raw": "txt"}

    def __init__(self, pids_fn, out_dir: Path, label: str, rate: int = 100, fmt: str = "flamegraph"):
        self.pids_fn = pids_fn
        self.out_dir = out_dir
        self.label = label
        self.rate = rate
        self.fmt = fmt
        self._procs: list[tuple[subprocess.Popen, Path]] = []

    @staticmethod
    def executable() -> str | None:
        beside = Path(sys.executable).parent / "py-spy"
        return str(beside) if beside.exists() else shutil.which("py-spy")

    def start(self) -> None:
        exe = self.executable()
        if exe is None:
            raise TargetUnavailable("--py-spy: no py-spy executable (pip install py-spy)")
        for proc in process_tree(self.pids_fn()):
            out = self.out_dir / f"{self.label}-{proc.pid}.{self.EXTENSIONS[self.fmt]}"
            argv = [exe, "record", "--pid", str(proc.pid), "--rate", str(self.rate), "--format", self.fmt]
            argv += ["--gil", "--nonblocking"]
            with open(self.out_dir / f"{self.label}-{proc.pid}.py-spy.log", "wb") as log:
                self._procs.append((subprocess.Popen([*argv, "-o", str(out)], stdout=log, stderr=log), out))

    def stop(self) -> list[str]:
        """Stop recording (py-spy writes its output on SIGINT); the flame graphs written."""
        for proc, _ in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        written = []
        for proc, out in self._procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            if out.exists():
                written.append(str(out))
        self._procs = []
        return written


def python() -> str:
    return sys.executable
