"""What chargers, charging and billing publish (docs/events.md), and who listens."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.billing.events import CdrCreated
from apps.chargers.events import BootAccepted, ChargerConnected, ChargerDisconnected, ConnectorStatusChanged
from apps.chargers.models import ChargePoint
from apps.chargers.services import (
    charge_point_boot,
    charge_point_connected,
    charge_point_create,
    charge_point_disconnected,
    charge_points_mark_stale_offline,
    connector_status_record_many,
)
from apps.charging import hooks
from apps.charging.events import TransactionAuthorised, TransactionEnded, TransactionFiguresChanged, TransactionStarted
from apps.charging.services import id_token_create, meter_values_record, transaction_start, transaction_stop
from apps.core.events import _signals

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def cp(in_tenant_a):
    return charge_point_create(identity="EV-1", password="a-charger-password-01")


def of(published, kind):
    return [e for e in published if isinstance(e, kind)]


def test_connectivity_and_boot(cp, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        charge_point_connected(charge_point_id=cp.pk, connection_id="c1", protocol_version="ocpp1.6", at=T0)
        charge_point_boot(charge_point_id=cp.pk, vendor="V", model="M", firmware_version="1.2")
        charge_point_disconnected(charge_point_id=cp.pk, connection_id="other", close_code=1006)  # replaced: no event
        charge_point_disconnected(charge_point_id=cp.pk, connection_id="c1", close_code=1006)
    assert of(published, ChargerConnected)[0].protocol_version == "ocpp1.6"
    boot = of(published, BootAccepted)[0]
    assert (boot.registration_status, boot.firmware_version) == ("Accepted", "1.2")
    assert [(e.cause, e.close_code) for e in of(published, ChargerDisconnected)] == [("closed", 1006)]


def test_the_stale_sweep_says_why(cp, published, django_capture_on_commit_callbacks):
    ChargePoint.objects.filter(pk=cp.pk).update(online=True, last_seen=T0)
    with django_capture_on_commit_callbacks(execute=True):
        assert charge_points_mark_stale_offline(now=T0 + timedelta(hours=1)) == 1
    assert [(e.charge_point_id, e.cause) for e in of(published, ChargerDisconnected)] == [(cp.pk, "stale")]


def test_status_changes_once_per_batch_old_to_new_and_repeats_are_silent(
    cp, published, django_capture_on_commit_callbacks
):
    def note(status, at, error="NoError"):
        return {
            "charge_point_id": cp.pk,
            "evse_id": 1,
            "connector_id": 1,
            "status": status,
            "timestamp": at,
            "error_code": error,
        }

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        connector_status_record_many(items=[note("Available", T0)])
        connector_status_record_many(items=[note("Available", T0 + timedelta(seconds=1))])  # the same again
        connector_status_record_many(
            items=[
                note("Charging", T0 + timedelta(seconds=3)),
                note("Faulted", T0 + timedelta(seconds=2), "GroundFailure"),
            ]
        )
    changes = [(e.old_status, e.status, e.error_code) for e in of(published, ConnectorStatusChanged)]
    # The newer Charging wins over the older Faulted of the same batch: the connector went Available -> Charging.
    assert changes == [("", "Available", "NoError"), ("Available", "Charging", "NoError")]
    assert len(callbacks) == 2  # the repeat published nothing


def test_a_transaction_life(cp, published, django_capture_on_commit_callbacks):
    id_token_create(id_token="CARD-1")
    with django_capture_on_commit_callbacks(execute=True):
        tx, info = transaction_start(
            charge_point_id=cp.pk, connector_id=1, id_tag="CARD-1", meter_start=0, timestamp=T0
        )
        meter_values_record(
            charge_point_id=cp.pk,
            connector_id=1,
            transaction_pk=tx.pk,
            meter_values=[{"timestamp": T0, "sampled_value": [{"value": "500"}]}],
        )
        transaction_stop(
            charge_point_id=cp.pk, transaction_id=tx.transaction_id, meter_stop=1000, timestamp=T0 + timedelta(hours=1)
        )
    assert info.status == "Accepted"
    assert of(published, TransactionStarted)[0].transaction_pk == tx.pk
    assert of(published, TransactionAuthorised)[0].id_token_pk == tx.id_token_id
    assert [e.transaction_pk for e in of(published, TransactionFiguresChanged)] == [tx.pk]
    ended = of(published, TransactionEnded)[0]
    assert (ended.transaction_pk, ended.reason) == (tx.pk, "Local")


def test_an_unknown_card_starts_a_transaction_nobody_may_charge_for(cp, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        transaction_start(charge_point_id=cp.pk, connector_id=1, id_tag="NOPE", meter_start=0, timestamp=T0)
    assert of(published, TransactionStarted)[0].auth_status == "Invalid"
    assert of(published, TransactionAuthorised) == []


def test_the_money_apps_subscribe_and_register_themselves():
    """Charging never imports them; their AppConfig.ready() plugs them in."""
    receivers = {t.__name__: {r[0][0] for r in s.receivers} for t, s in _signals.items()}
    assert "billing.create_cdr" in receivers["TransactionEnded"]
    assert "billing.correct_cdr" in receivers["TransactionFiguresChanged"]
    assert "payments.preauthorize" in receivers["TransactionAuthorised"]
    assert "payments.settle_cdr" in receivers[CdrCreated.__name__]
    assert [c.name for c in hooks.authorization_checks(has_owner=True)] == ["wallets"]
    assert hooks.authorization_checks(has_owner=False) == []


def test_a_registered_check_vetoes_an_authorisation(cp):
    from apps.charging.selectors import id_token_info_for_charging

    id_token_create(id_token="FLEET-1")
    hooks.authorization_check_register(
        hooks.AuthorizationCheck(name="test-fleet", check=lambda **kw: hooks.Veto(status="Blocked", reason="fleet"))
    )
    try:
        info = id_token_info_for_charging(id_tag="FLEET-1", charge_point_id=cp.pk)
    finally:
        hooks.authorization_check_unregister("test-fleet")
    assert (info.status, info.reason) == ("Blocked", "fleet")
    assert id_token_info_for_charging(id_tag="FLEET-1", charge_point_id=cp.pk).status == "Accepted"
