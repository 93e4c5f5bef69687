"""A driver's QR start and stop speak the charger's OCPP version: RemoteStart/RemoteStop
(1.6, integer transaction ids) or RequestStart/RequestStop (2.x, EVSE, string ids)."""

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create
from apps.charging.models import RemoteStart, Transaction
from apps.charging.services import id_token_create
from apps.qr.models import ConnectorCode
from apps.qr.services import qr_start, qr_stop


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"])
def test_qr_start_and_stop_per_version(in_tenant_a, tenant_a, make_user, command_bus, version):
    cp = charge_point_create(identity="QRV", password="s" * 20, protocol_version=version)
    code = ConnectorCode.objects.create(
        charge_point=cp, evse_id=2, connector_id=1 if version != "ocpp1.6" else 2, code="QRV2"
    )
    driver = make_user(tenant_a, role=Role.DRIVER)
    id_token_create(id_token="DRV-CARD-1", owner=driver)

    assert qr_start(code=code, user=driver).accepted
    action, payload = command_bus.sent[-1]
    if version == "ocpp1.6":
        assert (action, payload) == ("RemoteStartTransaction", {"connectorId": 2, "idTag": "DRV-CARD-1"})
    else:
        assert action == "RequestStartTransaction"
        assert payload["idToken"] == {"idToken": "DRV-CARD-1", "type": "ISO14443"} and payload["evseId"] == 2
        assert RemoteStart.objects.get(charge_point=cp).remote_start_id == payload["remoteStartId"]

    tx_id = "17" if version == "ocpp1.6" else "c0ffee-0001"
    Transaction.objects.create(
        charge_point=cp,
        evse_id=2,
        connector_id=code.connector_id,
        transaction_id=tx_id,
        id_tag="DRV-CARD-1",
        meter_start=0,
        started_at=timezone.now(),
        start_key=tx_id,
    )
    assert qr_stop(code=code, user=driver).accepted
    expected = (
        ("RemoteStopTransaction", {"transactionId": 17})
        if version == "ocpp1.6"
        else ("RequestStopTransaction", {"transactionId": "c0ffee-0001"})
    )
    assert command_bus.sent[-1] == expected
