"""A connection that sits idle longer than the channel layer's blocking read still takes
commands. Regression: redis-py 8's default 5 s socket timeout equals channels-redis's 5 s
BZPOPMIN wait, so an idle consumer's group receive timed out and the charger was lost."""

import asyncio

import pytest

from tests.csms.e2e import boot, charger
from tests.csms.test_e2e_scenarios import PASSWORD, command, cp_id  # noqa: F401

pytestmark = [pytest.mark.e2e]


def test_idle_connection_survives_and_answers_commands(e2e_db, cp_id):  # noqa: F811
    async def scenario():
        async with charger(e2e_db, "E2E-CP", password=PASSWORD) as cp:
            await boot(cp)
            await asyncio.sleep(7)  # longer than the 5 s blocking read on the channel layer
            result = await command(e2e_db, "E2E-CP", "ClearCache")
            assert result.status == "ok" and result.response == {"status": "Accepted"}
            assert "Timeout reading" not in e2e_db.log()

    asyncio.run(scenario())
