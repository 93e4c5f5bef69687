"""The fleet runner and the management command, against the in-test CSMS."""

from __future__ import annotations

import asyncio
import io
import threading

from django.core.management import call_command

from apps.simulator.fleet import run_fleet
from apps.simulator.state import SimOptions, Stats
from tests.simulator.conftest import FAST
from tests.simulator.csms import FakeCSMS


def test_fleet_runs_sessions_for_the_duration_and_reports_progress():
    lines: list[str] = []

    async def main():
        async with FakeCSMS(interval=60) as csms:
            options = SimOptions(
                url=csms.url, **{**FAST, "count": 3, "session_every": 1.0, "duration": 3.0, "progress_every": 1.0}
            )
            stats = await run_fleet(options, report=lines.append, stats=Stats())
            return csms, stats

    csms, stats = asyncio.run(main())
    assert sorted({b.identity for b in csms.of("BootNotification")}) == ["SIM-0001", "SIM-0002", "SIM-0003"]
    assert stats.sessions_started >= 2 and len(csms.of("StartTransaction")) >= 2
    assert stats.connected == 0 and stats.errors == 0
    # Shutting down ends running sessions properly instead of leaving them open on the CSMS.
    assert stats.sessions_active == 0
    assert len(csms.of("StopTransaction")) == len(csms.of("StartTransaction"))
    assert len(lines) >= 3 and "connected 3/3" in lines[1] and lines[-1].endswith("(stopped)")


def test_same_seed_gives_the_same_fleet():
    from apps.simulator.fleet import build_chargers

    def serials(seed):
        options = SimOptions(url="ws://127.0.0.1:9/ocpp/", count=2, seed=seed)
        return [(c.serial, c.iccid, int(c.connectors[1].energy_wh)) for c in build_chargers(options, Stats())]

    assert serials(5) == serials(5) != serials(6)


def test_management_command_runs_chargers_for_a_duration():
    ready, done = threading.Event(), threading.Event()
    box = {}

    def serve():
        async def main():
            async with FakeCSMS() as csms:
                box["csms"] = csms
                ready.set()
                while not done.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    out = io.StringIO()
    try:
        call_command(
            "simulate_chargers",
            "--count",
            "2",
            "--url",
            box["csms"].url,
            "--duration",
            "1.5",
            "--progress",
            "0.5",
            "--seed",
            "3",
            "--prefix",
            "CMD-",
            "--password",
            "a-password-of-16+",
            stdout=out,
        )
    finally:
        done.set()
        thread.join(5)
    text = out.getvalue()
    assert "simulating 2 OCPP 1.6 chargers CMD-0001" in text and "connected 2/2" in text
    assert sorted({b.identity for b in box["csms"].of("BootNotification")}) == ["CMD-0001", "CMD-0002"]


def test_simulator_runs_without_django_or_server_code():
    # A load generator is copied next to a test rig: it must not drag the platform along.
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import sys, apps.simulator.cli, apps.simulator.charger16;"
        "bad = [m for m in sys.modules if m.startswith(('django', 'channels')) or"
        " (m.startswith('apps.') and not m.startswith('apps.simulator'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, check=True, timeout=30)
