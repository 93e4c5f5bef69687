"""Reservations end to end: the portal's reserve/cancel service against a real 1.6 charger
and a real 2.0.1 station over websockets; the charger's answers fill in the reservation."""

import pytest

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging.models import IdToken, Reservation
from apps.charging.reservations import reservation_cancel_request, reservation_make
from apps.charging.services import id_token_create
from tests.csms.e2e import BackgroundCharger
from tests.csms.e2e2 import BackgroundStation

pytestmark = [pytest.mark.e2e]
PASSWORD = "s3cret-reserve-pass-01"


def _reserve(identity, evse_id, minutes=30):
    cp = ChargePoint.objects.get(identity=identity)
    return reservation_make(
        charge_point=cp, evse_id=evse_id, id_token=IdToken.objects.get(id_token="RES-CARD"), minutes=minutes, timeout=5
    )


def _cancel(identity, reservation_id):
    reservation = Reservation.objects.get(charge_point__identity=identity, reservation_id=reservation_id)
    return reservation_cancel_request(reservation=reservation, timeout=5)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_reserve_then_cancel(e2e_db, version):
    identity = f"RES-{version}"
    e2e_db.run(charge_point_create, identity=identity, password=PASSWORD)
    e2e_db.run(id_token_create, id_token="RES-CARD", group_id="FLEET-A")
    background = BackgroundCharger if version == "1.6" else BackgroundStation
    with background(e2e_db, identity, password=PASSWORD) as charger:
        first, result = e2e_db.run(lambda: _reserve(identity, 2))
        assert result.status == "ok" and result.response == {"status": "Accepted"}
        assert (first.status, first.charger_status) == ("Active", "Accepted")
        if version == "1.6":
            sent = charger.received[-1]
            assert sent[0] == "ReserveNow" and sent[1]["connector_id"] == 2 and sent[1]["id_tag"] == "RES-CARD"
            assert sent[1]["parent_id_tag"] == "FLEET-A"
        else:
            sent = charger.commands("ReserveNow")[-1]
            assert sent["evse_id"] == 2 and sent["id_token"] == {"id_token": "RES-CARD", "type": "ISO14443"}
            assert first.evse_id == 2

        # The charger refuses the next one: kept, not active, with the charger's word.
        charger.answers["ReserveNow"] = {"status": "Occupied"} if version != "1.6" else _v16_answer("Occupied")
        second, _ = e2e_db.run(lambda: _reserve(identity, 1))
        assert second.reservation_id == first.reservation_id + 1
        assert (second.status, second.charger_status) == ("Refused", "Occupied")

        assert e2e_db.run(lambda: _cancel(identity, first.reservation_id)).status == "ok"
        first = e2e_db.run(Reservation.objects.get, pk=first.pk)
        assert first.status == "Cancelled"


def _v16_answer(status):
    from ocpp.v16 import call_result

    return call_result.ReserveNow(status=status)


def test_offline_charger_reservation_is_not_active(e2e_db):
    e2e_db.run(charge_point_create, identity="RES-OFF", password=PASSWORD)
    e2e_db.run(id_token_create, id_token="RES-CARD")
    reservation, result = e2e_db.run(lambda: _reserve("RES-OFF", 1))
    assert result.status == "offline"
    assert (reservation.status, reservation.charger_status) == ("Refused", "offline")
