"""What the benchmark smoke tests share: running the harness and the storm's checks."""

import json
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def run_ceiling(out: Path, *args: str, timeout: float = 120) -> list[dict]:
    """`python -m benchmarks.run --target ceiling ...`; the result rows of its JSON."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--target", "ceiling", *args, "--json", str(out)]
    done = subprocess.run(cmd, cwd=BASE_DIR, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())["results"]


def assert_storm_all_accepted(row: dict, chargers: int) -> None:
    """Every charger connected and Accepted at its first attempt, nothing failed."""
    fleet = row["fleet"]
    assert row["connected"] == chargers
    assert fleet["connect_failures"] == {}
    assert fleet["connect_attempts"] == chargers
    assert fleet["accept_s"]["n"] == chargers
    assert fleet["all_accepted_s"] is not None
