"""End to end: local lists pushed over a real websocket to a FakeCharger by the live server.

Writes go through `server.run` / `in_thread` (committed, so on_commit fires and the eager
Celery task pushes from this process through the Redis channel layer to the server
holding the socket)."""

import asyncio
from datetime import UTC, datetime

import pytest
from django.db import transaction
from ocpp.v16 import call_result

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging import locallists
from apps.charging.models import IdToken, LocalAuthList, LocalListState
from apps.charging.services import id_token_create, id_token_update
from tests.csms.conftest import api_client, e2e_db, e2e_org, live_server_ocpp  # noqa: F401
from tests.csms.e2e import boot, charger, in_thread, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-charger-pass-02"
IDENTITY = "LL-E2E"


def _wipe_lists():
    LocalAuthList.objects.all().delete()


@pytest.fixture
def ll_setup(e2e_db):  # noqa: F811 (the imported fixture)
    e2e_db.run(_wipe_lists)
    e2e_db.run(charge_point_create, identity=IDENTITY, password=PASSWORD)
    e2e_db.run(id_token_create, id_token="CARD-1", group_id="FLEET")
    e2e_db.run(id_token_create, id_token="CARD-2", expires_at=datetime(2031, 1, 1, tzinfo=UTC))
    e2e_db.run(id_token_create, id_token="STOLEN", status="Blocked")
    yield e2e_db
    e2e_db.run(_wipe_lists)


def _assign_all():
    cp = ChargePoint.objects.get(identity=IDENTITY)
    return locallists.local_auth_list_create(name="Everything", mode="all", charge_points=[cp]).pk


def _block(id_token: str):
    # What the id_token_update hook (one line for the lead) does, in the same transaction.
    with transaction.atomic():
        token = id_token_update(token=IdToken.objects.get(id_token=id_token), status="Blocked")
        locallists.local_lists_token_changed(token=token)


def _state():
    return LocalListState.objects.filter(charge_point__identity=IDENTITY).values().first()


def _sent(cp) -> list[dict]:
    return [kw for action, kw in cp.received if action == "SendLocalList"]


def test_full_push_then_blocking_a_card_sends_a_differential(ll_setup):
    server = ll_setup

    async def scenario():
        async with charger(server, IDENTITY, password=PASSWORD) as cp:
            await boot(cp)
            # Assigning a list to an online charger pushes it (Full: nothing was pushed before).
            await in_thread(server.schema, _assign_all)
            await wait_for(lambda: _async_len(_sent(cp)), timeout=10)
            full = _sent(cp)[0]
            assert full["update_type"] == "Full" and full["list_version"] == 1
            assert full["local_authorization_list"] == [
                {"id_tag": "CARD-1", "id_tag_info": {"status": "Accepted", "parent_id_tag": "FLEET"}},
                {"id_tag": "CARD-2", "id_tag_info": {"status": "Accepted", "expiry_date": "2031-01-01T00:00:00Z"}},
                {"id_tag": "STOLEN", "id_tag_info": {"status": "Blocked"}},
            ]
            state = await in_thread(server.schema, _state)
            assert state["status"] == "in_sync" and state["version"] == 1 and state["last_answer"] == "Accepted"

            await in_thread(server.schema, _block, id_token="CARD-1")
            await wait_for(lambda: _async_len(_sent(cp), 2), timeout=10)
            diff = _sent(cp)[1]
            assert diff["update_type"] == "Differential" and diff["list_version"] == 2
            assert diff["local_authorization_list"] == [
                {"id_tag": "CARD-1", "id_tag_info": {"status": "Blocked", "parent_id_tag": "FLEET"}}
            ]
            state = await in_thread(server.schema, _state)
            assert state["status"] == "in_sync" and state["version"] == 2
            assert state["entries"]["CARD-1"]["status"] == "Blocked"

    asyncio.run(scenario())
    # The server stored the version the charger accepted (handlers/v16.py after_command), separately.
    assert server.run(ChargePoint.objects.get, identity=IDENTITY).local_list_version == 2


def test_version_mismatch_falls_back_to_full_and_explicit_push_through_the_api(ll_setup, api_client):  # noqa: F811
    from apps.accounts.models import Role

    server = ll_setup
    client = api_client(Role.OPERATOR_STAFF)
    answers = iter(["Accepted", "VersionMismatch", "Accepted"])

    async def scenario():
        async with charger(server, IDENTITY, password=PASSWORD) as cp:
            cp.answers["SendLocalList"] = lambda: call_result.SendLocalList(status=next(answers))
            await boot(cp)
            await in_thread(server.schema, _assign_all)
            await wait_for(lambda: _async_len(_sent(cp)), timeout=10)
            # A differential the charger refuses with VersionMismatch is retried once as Full.
            await in_thread(server.schema, _block, id_token="CARD-2")
            await wait_for(lambda: _async_len(_sent(cp), 3), timeout=10)
            kinds = [(s["update_type"], s["list_version"]) for s in _sent(cp)]
            assert kinds == [("Full", 1), ("Differential", 2), ("Full", 3)]
            assert len(_sent(cp)[2]["local_authorization_list"]) == 3
            state = await in_thread(server.schema, _state)
            assert state["status"] == "in_sync" and state["version"] == 3

            # The API's push waits for the charger's answer.
            cp.answers["SendLocalList"] = call_result.SendLocalList(status="Failed")
            response = await asyncio.to_thread(
                client.post, f"/api/v1/charge-points/{IDENTITY}/local-list/push/", {"update_type": "full"}
            )
            assert response.status_code == 200, response.content
            assert response.json()["status"] == "failed" and response.json()["answer"] == "Failed"
            assert _sent(cp)[-1]["update_type"] == "Full" and _sent(cp)[-1]["list_version"] == 4

    asyncio.run(scenario())
    state = server.run(_state)
    assert state["status"] == "failed" and state["needs_full"] and state["version"] == 3


def test_offline_charger_gets_its_list_after_boot(ll_setup):
    server = ll_setup
    # Offline: the list waits.
    server.run(_assign_all)
    assert server.run(_state)["status"] == "pending"

    async def scenario():
        async with charger(server, IDENTITY, password=PASSWORD) as cp:
            cp.answers["GetLocalListVersion"] = call_result.GetLocalListVersion(list_version=0)
            # The BootNotification handler queues the check; nothing is sent during the boot itself.
            await boot(cp)
            await wait_for(lambda: _async_len(_sent(cp)), timeout=15)
            actions = [a for a, _ in cp.received]
            assert actions.index("GetLocalListVersion") < actions.index("SendLocalList")
            assert _sent(cp)[0]["update_type"] == "Full" and _sent(cp)[0]["list_version"] == 1

            async def synced():
                return (await in_thread(server.schema, _state))["status"] == "in_sync"

            await wait_for(synced, timeout=10)

    asyncio.run(scenario())


async def _async_len(items, n: int = 1):
    return len(items) >= n
