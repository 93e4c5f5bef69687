"""CI smoke test of the storm after a restart (`--storm-mode restart`, issue 8) against
the ceiling: 50 chargers connect, the server is stopped with SIGTERM and started again
on the same port, and everyone reconnects at once. Counts only, never timing."""

import json
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
CHARGERS = 50


def test_storm_after_a_restart_everyone_back_and_accepted(tmp_path):
    out = tmp_path / "restart.json"
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--target",
        "ceiling",
        "--scenario",
        "storm",
        "--storm-mode",
        "restart",
        "--chargers",
        str(CHARGERS),
        "--storm-deadline",
        "20",
        "--max-runtime",
        "90",
        "--json",
        str(out),
    ]
    done = subprocess.run(cmd, cwd=BASE_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = json.loads(out.read_text())["results"]
    fleet = row["fleet"]
    assert row["scenario"] == "storm-restart"
    # Before the restart: the whole fleet connected and booted.
    assert fleet["ramp"]["connected"] == CHARGERS
    assert fleet["ramp"]["connect_failures"] == {}
    # The restart closed their connections (expected, so no drop, no error)...
    assert fleet["closed_by_restart"] == CHARGERS
    assert fleet["dropped"] == 0 and fleet["errors"] == {}
    assert row["restart"]["down_s"] > 0
    # ...and each one reconnected and was Accepted, at the first attempt.
    assert row["connected"] == CHARGERS
    assert fleet["connect_attempts"] == CHARGERS
    assert fleet["connect_failures"] == {}
    assert fleet["accept_s"]["n"] == CHARGERS
    assert fleet["all_accepted_s"] is not None
