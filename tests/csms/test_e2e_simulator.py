"""End to end with our own load generator as the real client: a small simulated fleet of
each OCPP version charges against the live server for a few seconds, and every session it
reports ends up as a completed, metered transaction with a CDR."""

import asyncio

import pytest
from django.db.models import F

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging.models import Transaction
from apps.charging.services import id_token_create
from apps.simulator.fleet import run_fleet
from apps.simulator.state import SimOptions, Stats

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-fleet-pass-0001"
TAGS = ("FLEET-TAG-1", "FLEET-TAG-2")


def _summary():
    from apps.billing.models import ChargeDetailRecord

    done = Transaction.objects.filter(status=Transaction.Status.COMPLETED)
    return {
        "online": ChargePoint.objects.filter(online=True).count(),
        "completed": done.count(),
        "metered": done.filter(meter_stop__gt=F("meter_start")).count(),
        "backwards": done.filter(meter_stop__lt=F("meter_start")).count(),
        "cdrs": ChargeDetailRecord.objects.filter(transaction__in=done).count(),
        "gaps": [t.seq_gaps for t in done if getattr(t, "seq_gaps", None)],
        "versions": set(ChargePoint.objects.values_list("protocol_version", flat=True)),
    }


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1", "2.1"])
def test_simulated_fleet_sessions_become_priced_transactions(e2e_db, protocol):
    for n in (1, 2):
        e2e_db.run(charge_point_create, identity=f"FLEET-{n:04d}", password=PASSWORD)
    for tag in TAGS:
        e2e_db.run(id_token_create, id_token=tag)
    options = SimOptions(
        url=e2e_db.url("", by_path=True),
        count=2,
        protocol=protocol,
        password=PASSWORD,
        prefix="FLEET-",
        connectors=2,
        heartbeat=30,
        meter_interval=1,
        session_every=3,
        duration=14,
        seed=7,
        id_tags=TAGS,
        speedup=60,
        step_delay=0.2,
        progress_every=0,
    )
    stats = Stats()
    asyncio.run(run_fleet(options, report=lambda line: None, stats=stats))
    assert stats.sessions_started >= 2, stats

    deadline = 10
    summary = e2e_db.run(_summary)
    while summary["cdrs"] < summary["completed"] and deadline:
        asyncio.run(asyncio.sleep(0.5))
        deadline -= 1
        summary = e2e_db.run(_summary)
    wire = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}[protocol]
    assert summary["versions"] == {wire}
    assert summary["completed"] >= 2, summary
    # A car that draws nothing in a short session is real; a register running backwards is not.
    assert summary["metered"] >= 1 and summary["backwards"] == 0, summary
    assert summary["cdrs"] == summary["completed"], summary
    assert summary["gaps"] == [], summary
