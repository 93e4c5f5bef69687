"""A command issued from a separate OS process (as a Celery worker or a management shell
would): it reaches the server process through the Redis channel layer and gets the answer."""

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from django.db import connection

from apps.chargers.services import charge_point_create
from tests.csms.e2e import charger

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-01"
BASE_DIR = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, django
django.setup()
from django_tenants.utils import schema_context
from apps.chargers.models import ChargePoint
from apps.csms.commands import command_send
with schema_context({schema!r}):
    result = command_send(charge_point=ChargePoint.objects.get(identity="E2E-PROC"), action="Reset",
                          payload={{"type": "Hard"}}, timeout=10, source="script")
    print(json.dumps({{"status": result.status, "response": result.response,
                      "recorded": result.command.status}}))
"""


def test_command_from_another_process(e2e_db):
    e2e_db.run(charge_point_create, identity="E2E-PROC", password=PASSWORD)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.csms.e2e_settings",
        "EVZONE_TEST_DB_NAME": connection.settings_dict["NAME"],
    }

    async def scenario():
        async with charger(e2e_db, "E2E-PROC", password=PASSWORD) as cp:
            from tests.csms.e2e import boot

            await boot(cp)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                SCRIPT.format(schema=e2e_db.schema),
                cwd=BASE_DIR,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            assert cp.received == [("Reset", {"type": "Hard"})]
            return json.loads(out.decode().strip().splitlines()[-1])

    assert asyncio.run(scenario()) == {"status": "ok", "response": {"status": "Accepted"}, "recorded": "ok"}
