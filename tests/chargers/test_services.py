from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.chargers.models import ChargePoint, Connector
from apps.chargers.passwords import check_charger_password
from apps.chargers.services import (
    charge_point_connected,
    charge_point_create,
    charge_point_delete,
    charge_point_disconnected,
    charge_point_update,
    charge_points_mark_stale_offline,
    charge_points_revive,
    charge_points_touch,
    connector_status_record,
)
from apps.charging.models import Transaction

PASSWORD = "a-good-charger-password"


def test_password_is_hashed_and_length_checked(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    assert PASSWORD not in cp.password_hash and cp.password_hash.startswith("pbkdf2_sha256$60000$")
    assert check_charger_password(PASSWORD, cp.password_hash)
    assert not check_charger_password(PASSWORD + "x", cp.password_hash)
    for bad in ("short-password", "x" * 41, "has a space in it ok"):
        with pytest.raises(ValidationError):
            charge_point_update(charge_point=cp, password=bad)


def test_profiles_1_and_2_need_a_password(in_tenant_a):
    with pytest.raises(ValidationError):
        charge_point_create(identity="CP-1", security_profile=1)
    assert charge_point_create(identity="CP-0", security_profile=0).password_hash == ""


def test_identity_is_unique(in_tenant_a):
    charge_point_create(identity="CP-1", password=PASSWORD)
    with pytest.raises(ValidationError):
        charge_point_create(identity="CP-1", password=PASSWORD)


def test_replaced_connection_does_not_mark_offline(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    charge_point_connected(charge_point_id=cp.pk, connection_id="old", protocol_version="ocpp1.6")
    charge_point_connected(charge_point_id=cp.pk, connection_id="new", protocol_version="ocpp1.6")
    assert not charge_point_disconnected(charge_point_id=cp.pk, connection_id="old")
    assert ChargePoint.objects.get(pk=cp.pk).online
    assert charge_point_disconnected(charge_point_id=cp.pk, connection_id="new")
    assert not ChargePoint.objects.get(pk=cp.pk).online


def test_stale_chargers_go_offline(in_tenant_a):
    now = timezone.now()
    fresh = charge_point_create(identity="FRESH", password=PASSWORD)
    stale = charge_point_create(identity="STALE", password=PASSWORD)
    slow = charge_point_create(identity="SLOW", password=PASSWORD, heartbeat_interval=3600)
    for cp in (fresh, stale, slow):
        charge_point_connected(
            charge_point_id=cp.pk, connection_id=cp.identity, protocol_version="ocpp1.6", at=now - timedelta(minutes=20)
        )
    charge_points_touch(charge_point_ids=[fresh.pk], at=now - timedelta(seconds=30))
    # Default 300 s interval: silent for 2 x 300 s + 60 s grace = 11 minutes means offline.
    assert charge_points_mark_stale_offline(now=now, default_interval=300) == 1
    online = dict(ChargePoint.objects.values_list("identity", "online"))
    assert online == {"FRESH": True, "STALE": False, "SLOW": True}


def test_touch_never_moves_last_seen_back(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    now = timezone.now()
    charge_points_touch(charge_point_ids=[cp.pk], at=now)
    charge_points_touch(charge_point_ids=[cp.pk], at=now - timedelta(minutes=1))
    assert ChargePoint.objects.get(pk=cp.pk).last_seen == now


def test_connector_status_first_notification_creates_connector(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    connector_status_record(
        charge_point_id=cp.pk, evse_id=2, connector_id=2, status="Available", timestamp=timezone.now()
    )
    assert Connector.objects.get(charge_point=cp).status == "Available"


def test_charger_with_transactions_cannot_be_deleted(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    Transaction.objects.create(
        charge_point=cp, evse_id=1, connector_id=1, meter_start=0, started_at=timezone.now(), start_key="k"
    )
    with pytest.raises(ValidationError):
        charge_point_delete(charge_point=cp)
    empty = charge_point_create(identity="CP-2", password=PASSWORD)
    charge_point_delete(charge_point=empty)
    assert not ChargePoint.objects.filter(identity="CP-2").exists()


def test_quiet_charger_revived_by_its_next_frame_but_not_by_a_dead_connection(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    charge_point_connected(
        charge_point_id=cp.pk, connection_id="live", protocol_version="ocpp1.6", at=timezone.now() - timedelta(hours=1)
    )
    assert charge_points_mark_stale_offline(default_interval=300) == 1
    assert charge_points_revive(connections={cp.pk: "replaced-long-ago"}) == 0
    assert charge_points_revive(connections={cp.pk: "live"}) == 1
    assert ChargePoint.objects.get(pk=cp.pk).online
    charge_point_disconnected(charge_point_id=cp.pk, connection_id="live")
    # A frame flushed after the socket closed must not bring it back.
    assert charge_points_revive(connections={cp.pk: "live"}) == 0
    assert not ChargePoint.objects.get(pk=cp.pk).online


@pytest.mark.django_db
def test_heartbeat_interval_changed_on_the_charger_is_kept_for_the_offline_sweep(in_tenant_a):
    from apps.chargers.models import ChargePoint
    from apps.chargers.services import charge_point_create, configuration_key_set

    cp = charge_point_create(identity="HB-1", password="h" * 20)
    configuration_key_set(charge_point_id=cp.pk, key="HeartbeatInterval", value="120")
    assert ChargePoint.objects.get(pk=cp.pk).heartbeat_interval == 120
    configuration_key_set(charge_point_id=cp.pk, key="HeartbeatInterval", value="nonsense")
    assert ChargePoint.objects.get(pk=cp.pk).heartbeat_interval == 120
