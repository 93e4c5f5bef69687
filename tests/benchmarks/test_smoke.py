"""CI smoke test of the benchmark harness (issue 8): the ceiling target with 50 chargers,
steady fleet for a few seconds and a reconnect storm. It checks counts — every call
answered, no errors, every charger connected and Accepted — never timing.

No database: these are plain tests (no `db` fixture); the harness runs in a subprocess.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
CHARGERS = 50


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    # Calls every 1-3 s instead of 30-60 s, so ten seconds exercise the whole mix.
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--target",
        "ceiling",
        "--scenario",
        "steady,storm",
        "--chargers",
        str(CHARGERS),
        "--duration",
        "8",
        "--interval",
        "1,3",
        "--storm-deadline",
        "20",
        "--max-runtime",
        "60",
        "--json",
        str(out),
    ]
    done = subprocess.run(cmd, cwd=BASE_DIR, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(out.read_text())
    return {row["scenario"]: row for row in data["results"]}


def test_steady_fleet_every_call_answered(smoke_results):
    row = smoke_results["steady"]
    fleet = row["fleet"]
    assert row["connected"] == CHARGERS
    assert fleet["open_at_end"] == CHARGERS
    assert fleet["connect_failures"] == {}
    assert fleet["errors"] == {}
    assert fleet["dropped"] == 0
    assert fleet["unanswered"] == 0
    assert fleet["sent"] > CHARGERS  # each charger sent several calls of the mix
    assert fleet["answered"] == fleet["sent"]
    assert fleet["latency_ms"]["n"] == fleet["answered"]
    assert set(fleet["by_action"]) >= {"Heartbeat", "StatusNotification", "MeterValues"}
    assert fleet["rejected"] == {}
    assert row["server"]["peak_rss_mb"] > 0


def test_storm_all_accepted(smoke_results):
    row = smoke_results["storm"]
    fleet = row["fleet"]
    assert row["connected"] == CHARGERS
    assert fleet["connect_failures"] == {}
    assert fleet["connect_attempts"] == CHARGERS
    assert fleet["accept_s"]["n"] == CHARGERS
    assert fleet["all_accepted_s"] is not None


def test_simulated_frames_are_valid_ocpp16():
    """The ceiling validates frames with the ocpp library; check the generator's mix
    directly too, so a schema slip shows up here and not as a benchmark error."""
    import asyncio

    from ocpp.messages import Call, validate_payload

    from benchmarks import ocppj

    async def check():
        charger = ocppj.Charger(7)
        frames = [("BootNotification", ocppj.boot_payload(charger.ident))]
        for _ in range(2 * len(ocppj.CYCLE)):
            action, payload = charger.next_message()
            if action == ocppj.START:
                charger.tx = 42
            frames.append((action, payload))
        for n, (action, payload) in enumerate(frames):
            await validate_payload(Call(unique_id=str(n), action=action, payload=payload), "1.6")
        return {a for a, _ in frames}

    actions = asyncio.run(check())
    assert actions == {
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
    }


def test_percentiles():
    from benchmarks.loadgen import percentiles

    p = percentiles(range(1, 101))
    assert (p["n"], p["p50"], p["p95"], p["p99"], p["max"]) == (100, 50, 95, 99, 100)
    assert percentiles([]) == {"n": 0}
