"""An operator accepts a Pending charger from its page: the connected charger is asked to
boot again at once (TriggerMessage BootNotification) and is then Accepted."""

import asyncio

import pytest
from django.test import Client

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create
from tests.csms.e2e import boot, charger, in_thread, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "pending-charger-pass-1"


def test_accepting_a_pending_charger_triggers_its_boot(e2e_db):
    e2e_db.run(charge_point_create, identity="PEND-1", password=PASSWORD, registration_status="Pending")

    def accept():
        from tests.factories.accounts import UserFactory

        user = UserFactory(role=Role.OPERATOR_ADMIN)
        client = Client(HTTP_HOST=e2e_db.host)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client.post("/chargers/PEND-1/registration/", {"decision": "accept"}, follow=True)

    async def scenario():
        async with charger(e2e_db, "PEND-1", password=PASSWORD) as cp:
            assert (await boot(cp)).status == "Pending"
            response = await in_thread(e2e_db.schema, accept)
            assert "asked to boot again now" in response.content.decode()
            await wait_for(lambda: _has(cp.received, "TriggerMessage"))
            assert ("TriggerMessage", {"requested_message": "BootNotification"}) in cp.received
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(scenario())


async def _has(received, action):
    return any(a == action for a, _ in received)
