"""The portal for OCPP 2.x stations: the version-aware command panel and forms, and session
pages showing TransactionEvents (seqNo, trigger, gaps)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create, connector_status_record
from apps.charging.models import RemoteStart, Transaction
from apps.charging.transaction_events import transaction_event_record
from apps.csms.models import Command


@pytest.fixture
def v2(tenant_a):
    """An offline 2.0.1 station (commands are recorded, not sent) with two EVSEs and a
    running transaction that lost seqNo 1."""
    now = timezone.now()
    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="ST-201", password="p" * 20)
        ChargePoint.objects.filter(pk=cp.pk).update(protocol_version="ocpp2.0.1")
        for evse in (1, 2):
            connector_status_record(
                charge_point_id=cp.pk, evse_id=evse, connector_id=1, status="Available", timestamp=now
            )
        for seq, kind in ((0, "Started"), (2, "Updated")):
            transaction_event_record(
                charge_point_id=cp.pk,
                event_type=kind,
                timestamp=now - timedelta(minutes=10 - seq),
                trigger_reason="Authorized" if seq == 0 else "MeterValuePeriodic",
                seq_no=seq,
                transaction_info={"transaction_id": "a1b2-c3d4", "charging_state": "Charging"},
                payload={"seq": seq},
                evse={"id": 2, "connector_id": 1},
            )
        return cp


def test_command_panel_is_the_2x_one(tenant_a, make_user, login, v2):
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    page = client.get("/chargers/ST-201/").content.decode()
    assert 'id="commands-v2"' in page and "RemoteStartTransaction" not in page
    assert 'value="RequestStopTransaction"' in page and 'value="a1b2-c3d4"' in page
    assert "<option>SignChargingStationCertificate</option>" in page  # 2.x triggers
    assert 'value="2/1">EVSE 2 connector 1' in page
    assert '<option value="CostUpdated">' in page  # raw console: the version's commands


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"action": "ChangeAvailability", "evse_connector": "", "operationalStatus": "Inoperative"},
         {"operationalStatus": "Inoperative"}),
        ({"action": "ChangeAvailability", "evse_connector": "2", "operationalStatus": "Operative"},
         {"operationalStatus": "Operative", "evse": {"id": 2}}),
        ({"action": "ChangeAvailability", "evse_connector": "2/1", "operationalStatus": "Inoperative"},
         {"operationalStatus": "Inoperative", "evse": {"id": 2, "connectorId": 1}}),
        ({"action": "TriggerMessage", "requestedMessage": "TransactionEvent", "evse_connector": "1"},
         {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}),
        ({"action": "UnlockConnector", "evse_connector": "2/1"}, {"evseId": 2, "connectorId": 1}),
        ({"action": "Reset", "type": "OnIdle", "evse_id": ""}, {"type": "OnIdle"}),
        ({"action": "Reset", "type": "Immediate", "evse_id": "2"}, {"type": "Immediate", "evseId": 2}),
        ({"action": "RequestStopTransaction", "transaction_id": "a1b2-c3d4"}, {"transactionId": "a1b2-c3d4"}),
        ({"action": "ClearCache", "payload": "{}"}, {}),
    ],
)  # fmt: skip
def test_2x_command_forms_build_2x_payloads(tenant_a, make_user, login, v2, fields, expected):
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    client.post("/chargers/ST-201/command/", fields)
    with schema_context(tenant_a.schema_name):
        command = Command.objects.get(charge_point=v2)
    assert (command.action, command.payload) == (fields["action"], expected)


def test_portal_start_allocates_a_remote_start_id(tenant_a, make_user, login, v2):
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    client.post(
        "/chargers/ST-201/command/",
        {"action": "RequestStartTransaction", "id_token": "CARD-9", "id_token_type": "ISO14443", "evse_id": "1"},
    )
    with schema_context(tenant_a.schema_name):
        command = Command.objects.get(charge_point=v2)
        request = RemoteStart.objects.get(charge_point=v2)
    assert command.payload == {
        "idToken": {"idToken": "CARD-9", "type": "ISO14443"},
        "remoteStartId": request.remote_start_id,
        "evseId": 1,
    }
    assert request.source == "portal" and request.user is not None


def test_session_page_shows_events_and_gaps(tenant_a, make_user, login, v2):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    with schema_context(tenant_a.schema_name):
        tx = Transaction.objects.get(transaction_id="a1b2-c3d4")
    assert tx.seq_gaps == [1]
    page = client.get(f"/sessions/{tx.pk}/").content.decode()
    assert 'id="seq-gaps"' in page and "seqNo 1 never arrived" in page
    assert 'id="tx-events"' in page and "MeterValuePeriodic" in page and "EVSE 2" in page
    listing = client.get("/sessions/").content.decode()
    assert "#a1b2-c3d4" in listing and "events missing" in listing


def test_charger_page_names_evses_of_a_2x_station(tenant_a, make_user, login, v2):
    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    page = client.get("/chargers/ST-201/?partial=1").content.decode()
    # Two EVSEs with connector 1 each must not both read "1".
    assert "EVSE 1 · 1" in page and "EVSE 2 · 1" in page


def test_session_page_title_is_only_the_session(tenant_a, make_user, login, v2):
    from apps.charging.models import Transaction

    client = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    with schema_context(tenant_a.schema_name):
        pk = Transaction.objects.get(transaction_id="a1b2-c3d4").pk
    page = client.get(f"/sessions/{pk}/").content.decode()
    title = page[page.index("<title>") : page.index("</title>")]
    assert "a1b2-c3d4" in title and "<section" not in title
    assert page.count('id="tx-events"') == 1
