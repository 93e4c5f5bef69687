"""A server process killed outright (no disconnect handlers run): its chargers still
look online until the beat sweep notices the silence; they come back on another process."""

import asyncio
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create, charge_points_mark_stale_offline
from tests.csms.conftest import start_server, stop_server
from tests.csms.e2e import boot, charger, in_thread

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-01"


def test_killed_process_chargers_go_offline_via_sweep_and_reconnect_elsewhere(e2e_db, tmp_path):
    e2e_db.run(charge_point_create, identity="E2E-DIE", password=PASSWORD)
    doomed_proc, doomed = start_server(e2e_db.org, tmp_path / "doomed.log")

    def state():
        return ChargePoint.objects.values_list("online", "connection_id").get(identity="E2E-DIE")

    async def scenario():
        async with charger(doomed, "E2E-DIE", password=PASSWORD) as cp:
            assert (await boot(cp)).status == "Accepted"
            doomed_proc.send_signal(signal.SIGKILL)
            doomed_proc.wait(5)
            await asyncio.sleep(0.2)
        online, connection_id = await in_thread(e2e_db.schema, state)
        assert online and connection_id  # nobody ran the disconnect handler
        # The beat task, 15 minutes later: two 300 s intervals + 60 s of silence have passed.
        swept = await in_thread(
            e2e_db.schema, charge_points_mark_stale_offline, now=timezone.now() + timedelta(minutes=15)
        )
        assert swept == 1
        assert (await in_thread(e2e_db.schema, state))[0] is False
        # The charger reconnects to a surviving process.
        async with charger(e2e_db, "E2E-DIE", password=PASSWORD) as cp:
            await boot(cp)
            online, new_connection = await in_thread(e2e_db.schema, state)
            assert online and new_connection != connection_id

    try:
        asyncio.run(scenario())
    finally:
        stop_server(doomed_proc)
