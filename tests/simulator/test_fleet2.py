"""The fleet runner and both front ends with OCPP 2.0.1 / 2.1 chargers."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from django.conf import settings

from apps.simulator.fleet import run_fleet
from apps.simulator.state import SimOptions, Stats
from tests.simulator.conftest import FAST
from tests.simulator.csms2 import CSMS2


@pytest.mark.parametrize("protocol", ["2.0.1", "2.1"])
def test_fleet_runs_2x_sessions_and_reports_progress(protocol):
    lines: list[str] = []

    async def main():
        async with CSMS2[protocol](interval=60) as csms:
            options = SimOptions(
                url=csms.url,
                **{
                    **FAST,
                    "protocol": protocol,
                    "count": 3,
                    "session_every": 1.0,
                    "duration": 3.0,
                    "progress_every": 1.0,
                },
            )
            stats = await run_fleet(options, report=lines.append, stats=Stats())
            return csms, stats

    csms, stats = asyncio.run(main())
    assert sorted({b.identity for b in csms.of("BootNotification")}) == ["SIM-0001", "SIM-0002", "SIM-0003"]
    started = csms.of("TransactionEvent", event_type="Started")
    assert stats.sessions_started >= 2 and len(started) == stats.sessions_started
    assert stats.connected == 0 and stats.errors == 0 and stats.sessions_active == 0
    # Shutting down ends every running transaction instead of leaving it open on the CSMS.
    assert len(csms.of("TransactionEvent", event_type="Ended")) == len(started)
    assert len(lines) >= 3 and "connected 3/3" in lines[1] and lines[-1].endswith("(stopped)")


def test_python_m_front_end_speaks_2_0_1_without_django():
    async def serve(ready: asyncio.Event, box: dict):
        async with CSMS2["2.0.1"]() as csms:
            box["csms"] = csms
            ready.set()
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "apps.simulator",
                "--protocol",
                "2.0.1",
                "--count",
                "2",
                "--url",
                csms.url,
                "--duration",
                "1.5",
                "--progress",
                "0.5",
                "--prefix",
                "PY-",
                cwd=settings.BASE_DIR,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
            box["out"] = out.decode()

    box: dict = {}
    asyncio.run(serve(asyncio.Event(), box))
    assert "simulating 2 OCPP 2.0.1 chargers PY-0001" in box["out"] and "connected 2/2" in box["out"]
    boots = box["csms"].of("BootNotification")
    assert sorted({b.identity for b in boots}) == ["PY-0001", "PY-0002"]


def test_2x_modules_import_no_server_code():
    code = (
        "import sys, apps.simulator.cli, apps.simulator.charger2;"
        "bad = [m for m in sys.modules if m.startswith(('django', 'channels')) or"
        " (m.startswith('apps.') and not m.startswith('apps.simulator'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, check=True, timeout=30)
