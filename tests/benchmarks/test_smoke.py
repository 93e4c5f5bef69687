"""CI smoke test of the benchmark harness (issue 8): the ceiling target with 50 chargers,
steady fleet for a few seconds and a reconnect storm. It checks counts — every call
answered, no errors, every charger connected and Accepted — never timing.

No database: these are plain tests (no `db` fixture); the harness runs in a subprocess.
"""

from pathlib import Path

import pytest

from tests.benchmarks.bench import assert_storm_all_accepted, run_ceiling

CHARGERS = 50

# The harness starts the benchmark's own server and fleet in a subprocess.
pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    # Calls every 1-3 s instead of 30-60 s, so ten seconds exercise the whole mix.
    rows = run_ceiling(
        out,
        *("--scenario", "steady,storm", "--storm-mode", "cold", "--chargers", str(CHARGERS)),
        *("--duration", "8", "--interval", "1,3"),
        *("--storm-deadline", "20", "--max-runtime", "60"),
        timeout=90,
    )
    return {row["scenario"]: row for row in rows}


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
    assert_storm_all_accepted(smoke_results["storm"], CHARGERS)


def test_storm_after_a_restart_everyone_back_and_accepted(tmp_path):
    """--storm-mode restart: 50 chargers connect, the server is stopped with SIGTERM and
    started again on the same port, and everyone reconnects at once."""
    (row,) = run_ceiling(
        tmp_path / "restart.json",
        *("--scenario", "storm", "--storm-mode", "restart", "--chargers", str(CHARGERS)),
        *("--storm-deadline", "20", "--max-runtime", "90"),
    )
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
    assert_storm_all_accepted(row, CHARGERS)


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


def test_py_spy_records_a_flame_graph_of_the_server(tmp_path):
    """--py-spy: a flame graph of the server process over the measured window, listed in the
    JSON; it shows the server's own code (the ceiling's module), so it sampled the right process."""
    (row,) = run_ceiling(
        tmp_path / "spy.json",
        *("--scenario", "throughput", "--throughput-chargers", "20", "--duration", "3", "--py-spy"),
        *("--max-runtime", "60"),
    )
    (profile,) = row["profiles"]
    svg = Path(profile).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "ceiling_server" in svg
