"""config/supervise.py: `make run`'s web process comes back after a crash (#16 item 14)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SUPERVISE = [sys.executable, "-m", "config.supervise", "--"]
ROOT = Path(__file__).resolve().parents[2]

# First run: killed with SIGKILL (as an OOM kill would); second run: a clean exit.
CRASH_ONCE = """
import os, pathlib, signal, sys
marker = pathlib.Path(sys.argv[1])
runs = int(marker.read_text()) + 1 if marker.exists() else 1
marker.write_text(str(runs))
if runs == 1:
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_crashed_process_is_started_again(tmp_path):
    marker = tmp_path / "runs"
    done = subprocess.run(
        [*SUPERVISE, sys.executable, "-c", CRASH_ONCE, str(marker)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert marker.read_text() == "2"
    assert "stopped (signal 9); restarting" in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_supervisor_stops_the_process_and_does_not_restart_it(tmp_path, signum):
    marker = tmp_path / "runs"
    script = (
        "import pathlib, signal, sys, time\n"
        "m = pathlib.Path(sys.argv[1]); m.write_text(str(int(m.read_text()) + 1 if m.exists() else 1))\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([*SUPERVISE, sys.executable, "-c", script, str(marker)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    proc.wait(timeout=30)
    time.sleep(0.5)
    assert marker.read_text() == "1"  # never restarted


def test_the_web_process_of_make_run_is_supervised():
    web = next(line for line in (ROOT / "Procfile.dev").read_text().splitlines() if line.startswith("web:"))
    assert "python -m config.supervise -- uvicorn config.asgi:application" in web
