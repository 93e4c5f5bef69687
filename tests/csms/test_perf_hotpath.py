"""Behaviour of the hot-path shortcuts (issue 8): each must answer exactly as the slow path did."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.routing import create_route_map

from apps.chargers import passwords
from apps.chargers.models import ChargePoint, Connector, ConnectorStatusHistory
from apps.chargers.passwords import check_charger_password_cached, hash_charger_password
from apps.chargers.services import charge_point_create, connector_status_record
from apps.csms.handlers import V16Session, V201Session
from apps.csms.handlers.base import ChargerContext, to_camel, to_snake
from apps.csms.services import connection_authorize

PASSWORD = "a-good-charger-password"


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def _empty_cache():
    passwords.verified_cache_clear()
    yield
    passwords.verified_cache_clear()


def test_cached_check_skips_pbkdf2_only_for_a_password_that_was_right(monkeypatch):
    encoded = hash_charger_password(PASSWORD)
    calls = []
    real = passwords.check_charger_password
    monkeypatch.setattr(passwords, "check_charger_password", lambda p, e: calls.append(p) or real(p, e))
    assert check_charger_password_cached(PASSWORD, encoded, charge_point_id=1)
    assert check_charger_password_cached(PASSWORD, encoded, charge_point_id=1)
    assert len(calls) == 1
    # Wrong passwords are never cached: each one pays the full hash.
    assert not check_charger_password_cached(PASSWORD + "x", encoded, charge_point_id=1)
    assert not check_charger_password_cached(PASSWORD + "x", encoded, charge_point_id=1)
    assert len(calls) == 3
    # Another charger with the same password is checked on its own.
    assert check_charger_password_cached(PASSWORD, encoded, charge_point_id=2)
    assert len(calls) == 4


def test_cache_keeps_no_password_and_forgets_on_a_new_hash():
    old = hash_charger_password(PASSWORD)
    assert check_charger_password_cached(PASSWORD, old, charge_point_id=1)
    assert all(PASSWORD.encode() not in key and len(key) == 32 for key in passwords._verified)
    new = hash_charger_password("the-next-password-0123")
    # The password was changed: the old one no longer opens the door, cached or not.
    assert not check_charger_password_cached(PASSWORD, new, charge_point_id=1)
    assert check_charger_password_cached("the-next-password-0123", new, charge_point_id=1)


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(passwords, "VERIFIED_CACHE_SIZE", 3)
    encoded = hash_charger_password(PASSWORD)
    for pk in range(6):
        assert check_charger_password_cached(PASSWORD, encoded, charge_point_id=pk)
    assert len(passwords._verified) == 3


def test_handshake_after_password_change_uses_the_new_hash(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    assert connection_authorize(identity="CP-1", authorization=basic("CP-1", PASSWORD), secure=False).allowed
    ChargePoint.objects.filter(pk=cp.pk).update(password_hash=hash_charger_password("the-next-password-0123"))
    assert not connection_authorize(identity="CP-1", authorization=basic("CP-1", PASSWORD), secure=False).allowed
    # Right password, wrong user: still refused even though the password check is cached.
    assert not connection_authorize(identity="CP-1", authorization=basic("CP-2", PASSWORD), secure=False).allowed


def test_connector_status_one_statement_keeps_newest_and_all_history(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    now = timezone.now()
    first = connector_status_record(
        charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Charging", timestamp=now, error_code="NoError"
    )
    assert (first.status, first.status_at, first.charge_point_id) == ("Charging", now, cp.pk)
    assert first.standard == "" and first.max_voltage is None  # model defaults for a new connector
    # Queued while offline: older than what we have, so only history.
    late = connector_status_record(
        charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Available", timestamp=now - timedelta(minutes=1)
    )
    assert (late.pk, late.status, late.status_at) == (first.pk, "Charging", now)
    newer = connector_status_record(
        charge_point_id=cp.pk,
        evse_id=1,
        connector_id=1,
        status="Faulted",
        timestamp=now + timedelta(seconds=1),
        error_code="GroundFailure",
        info="x",
        vendor_id="v",
        vendor_error_code="E1",
    )
    assert (newer.pk, newer.status, newer.error_code, newer.vendor_error_code) == (
        first.pk,
        "Faulted",
        "GroundFailure",
        "E1",
    )
    assert Connector.objects.filter(charge_point=cp).count() == 1
    assert list(
        ConnectorStatusHistory.objects.filter(charge_point=cp).order_by("timestamp").values_list("status", flat=True)
    ) == ["Available", "Charging", "Faulted"]


def test_connector_status_keeps_declared_attributes(in_tenant_a):
    cp = charge_point_create(identity="CP-1", password=PASSWORD)
    Connector.objects.create(charge_point=cp, evse_id=1, connector_id=1, standard="IEC_62196_T2", max_voltage=400)
    c = connector_status_record(
        charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Available", timestamp=timezone.now()
    )
    assert (c.status, c.standard, c.max_voltage) == ("Available", "IEC_62196_T2", 400)


@pytest.mark.parametrize(
    "payload",
    [
        {"connectorId": 1, "meterValue": [{"timestamp": "t", "sampledValue": [{"value": "1", "measurand": "X"}]}]},
        {"ocppCSMSURL": "u", "evseId": 2, "V2XChargingParameters": {"maxSoC": 1}, "list": [1, [2], {"aB": None}]},
        {"stateOfCharge": 1, "socLimitReached": True, "responderURL": "x", "csmsRootCertificate": "y"},
    ],
)
def test_memoised_key_conversion_matches_the_library(payload):
    assert to_snake(payload) == camel_to_snake_case(payload)
    snake = camel_to_snake_case(payload)
    assert to_camel(snake) == snake_to_camel_case(snake)
    assert to_camel(to_snake(payload)) == snake_to_camel_case(camel_to_snake_case(payload))


@pytest.mark.parametrize("cls", [V16Session, V201Session])
def test_class_route_map_matches_the_library(cls):
    session = cls(ctx=ChargerContext(schema="x", charge_point_id=1, identity="X"), send=None)
    expected = {a: e["_on_action"] for a, e in create_route_map(session).items() if "_on_action" in e}
    assert {a: e["_on_action"] for a, e in session.route_map.items()} == expected
    for action, handler in expected.items():
        assert session.handler_for(action) == handler
    # Nothing per connection: the map is the class's.
    assert "route_map" not in vars(session)


def test_message_log_copy_stores_what_the_orm_would(in_tenant_a):
    from django.db import connection

    from apps.csms import messagelog
    from apps.csms.models import MessageLog

    schema = connection.schema_name
    payload = {"meterValue": [{"sampledValue": [{"value": "1.5", "unit": "Wh"}]}], "ü": "naïve 'quote' \\ \t"}
    entries = [
        messagelog.entry(
            schema=schema,
            charge_point_id=9,
            identity="CP-9",
            direction="in",
            message_type=2,
            action="MeterValues",
            unique_id="u1",
            payload=payload,
            latency_ms=None,
        ),
        messagelog.entry(
            schema=schema,
            charge_point_id=9,
            identity="CP-9",
            direction="out",
            message_type=3,
            unique_id="u1",
            latency_ms=7,
        ),
    ]
    messagelog.write_entries(entries=entries)
    connection.set_schema(schema)
    rows = list(MessageLog.objects.filter(charge_point_id=9).order_by("id"))
    assert [(r.direction, r.action, r.payload, r.latency_ms, r.timestamp) for r in rows] == [
        ("in", "MeterValues", payload, None, entries[0]["timestamp"]),
        ("out", "", None, 7, entries[1]["timestamp"]),
    ]


def test_a_handshake_that_waited_too_long_is_deferred_unless_its_password_check_is_cached(in_tenant_a, monkeypatch):
    import base64
    import time

    from apps.chargers import passwords
    from apps.chargers.services import charge_point_create
    from apps.csms.services import connection_authorize

    passwords.verified_cache_clear()
    charge_point_create(identity="STORM-1", password="a-good-charger-password")

    def header(password):
        return "Basic " + base64.b64encode(f"STORM-1:{password}".encode()).decode()

    hashed = []
    real = passwords.check_charger_password
    monkeypatch.setattr(passwords, "check_charger_password", lambda *a: hashed.append(1) or real(*a))

    def late(password, identity="STORM-1"):
        return connection_authorize(
            identity=identity, authorization=header(password), secure=False, queued_at=time.monotonic() - 11, budget=10
        )

    # Never verified: no PBKDF2 for a handshake whose charger has probably given up.
    first = late("a-good-charger-password")
    assert first.overloaded and not first.allowed and hashed == []
    fresh = connection_authorize(
        identity="STORM-1",
        authorization=header("a-good-charger-password"),
        secure=False,
        queued_at=time.monotonic(),
        budget=10,
    )
    assert fresh.allowed and not fresh.overloaded and hashed == [1]
    # Verified before (the restart-storm case): decided as usual, at no PBKDF2 cost.
    again = late("a-good-charger-password")
    assert again.allowed and again.charge_point_id == fresh.charge_point_id and hashed == [1]
    # A wrong password is never cached, so it is deferred, not refused: an overloaded
    # server tells nothing about passwords, and still spends no PBKDF2.
    wrong = late("a-wrong-charger-password")
    assert wrong.overloaded and not wrong.allowed and hashed == [1]
    unknown = late("a-good-charger-password", identity="STORM-NOBODY")
    assert unknown.overloaded and not unknown.allowed and hashed == [1]
