import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_connected, charge_point_create
from apps.csms.commands import command_create, command_finish
from apps.csms.handlers import negotiate_subprotocol
from apps.csms.middleware import resolve_tenant
from apps.csms.models import Command, MessageLog
from apps.csms.services import (
    connection_authorize,
    csms_settings_update,
    message_log_purge,
    parse_basic_auth,
)
from apps.csms.tasks import mark_stale_offline, purge_message_log
from apps.tenants.services import organization_set_status

PASSWORD = "a-good-charger-password"


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def cp(make_charge_point, in_tenant_a):
    return make_charge_point(identity="CP-1", password=PASSWORD)


def test_parse_basic_auth():
    assert parse_basic_auth(basic("CP-1", "pa:ss")) == ("CP-1", "pa:ss")
    assert parse_basic_auth("Basic !!!") is None
    assert parse_basic_auth("Bearer abc") is None
    assert parse_basic_auth(None) is None


@pytest.mark.parametrize(
    ("header", "secure", "allowed"),
    [
        (basic("CP-1", PASSWORD), False, True),
        (basic("CP-1", PASSWORD + "!"), False, False),
        (basic("CP-2", PASSWORD), False, False),
        (None, False, False),
    ],
)
def test_profile_1(cp, header, secure, allowed):
    assert connection_authorize(identity="CP-1", authorization=header, secure=secure).allowed is allowed


def test_identity_too_long_or_unprintable_is_refused(in_tenant_a):
    csms_settings_update(unknown_identity_policy="accept")
    assert not connection_authorize(identity="X" * 49, authorization=None, secure=False).allowed
    assert not connection_authorize(identity="bad\nname", authorization=None, secure=False).allowed
    assert not ChargePoint.objects.exists()


def test_profile_0_2_and_3(in_tenant_a):
    charge_point_create(identity="P0", security_profile=0)
    charge_point_create(identity="P2", security_profile=2, password=PASSWORD)
    charge_point_create(identity="P3", security_profile=3)
    assert connection_authorize(identity="P0", authorization=None, secure=False).allowed
    assert not connection_authorize(identity="P2", authorization=basic("P2", PASSWORD), secure=False).allowed
    assert connection_authorize(identity="P2", authorization=basic("P2", PASSWORD), secure=True).allowed
    assert not connection_authorize(identity="P3", authorization=None, secure=True).allowed
    assert not connection_authorize(identity="P3", authorization=None, secure=True, client_cert_identity="P2").allowed
    assert connection_authorize(identity="P3", authorization=None, secure=True, client_cert_identity="P3").allowed


@pytest.mark.parametrize(
    ("policy", "allowed", "status"),
    [("reject", False, None), ("pending", True, "Pending"), ("accept", True, "Accepted")],
)
def test_unknown_identity_policy(in_tenant_a, policy, allowed, status):
    csms_settings_update(unknown_identity_policy=policy)
    decision = connection_authorize(identity="NEW-1", authorization=None, secure=False)
    assert decision.allowed is allowed
    cp = ChargePoint.objects.filter(identity="NEW-1").first()
    assert (cp.registration_status if cp else None) == status


def test_negotiate_subprotocol():
    assert negotiate_subprotocol(["ocpp1.6"]) == "ocpp1.6"
    assert negotiate_subprotocol(["ocpp2.0", "OCPP1.6"]) == "OCPP1.6"
    assert negotiate_subprotocol(["ocpp1.5"]) is None
    assert negotiate_subprotocol([]) is None


def test_resolve_tenant(tenant_a, tenant_b):
    assert resolve_tenant(host=tenant_a.primary_domain.domain, org_slug=None) == tenant_a
    assert resolve_tenant(host="anything.example", org_slug="beta") == tenant_b
    assert resolve_tenant(host="nobody.example", org_slug=None) is None
    assert resolve_tenant(host="localhost", org_slug=None) is None  # the platform has no chargers
    assert resolve_tenant(host="x", org_slug="nope") is None
    organization_set_status(organization=tenant_b, status="suspended")
    assert resolve_tenant(host="x", org_slug="beta") is None


def test_message_log_purge_respects_retention(in_tenant_a, tenant_a):
    csms_settings_update(message_log_retention_days=7)
    now = timezone.now()
    for age in (1, 6, 8, 30):
        MessageLog.objects.create(
            charge_point_id=1, identity="CP", direction="in", message_type=2, timestamp=now - timedelta(days=age)
        )
    assert message_log_purge(now=now) == 2
    assert MessageLog.objects.count() == 2


def test_tasks_fan_out_over_tenants(tenant_a, tenant_b):
    old = timezone.now() - timedelta(hours=2)
    for org in (tenant_a, tenant_b):
        with schema_context(org.schema_name):
            cp = charge_point_create(identity="STALE", password=PASSWORD)
            charge_point_connected(charge_point_id=cp.pk, connection_id="c", protocol_version="ocpp1.6", at=old)
            MessageLog.objects.create(
                charge_point_id=cp.pk,
                identity="STALE",
                direction="in",
                message_type=2,
                timestamp=old - timedelta(days=90),
            )
    connection.set_schema_to_public()  # as beat runs them: one task per schema each (eager here)
    assert mark_stale_offline() == purge_message_log() >= 2
    for org in (tenant_a, tenant_b):
        with schema_context(org.schema_name):
            assert not ChargePoint.objects.get(identity="STALE").online
            assert not MessageLog.objects.filter(identity="STALE").exists()


def test_command_answer_wins_over_timeout(cp):
    command = command_create(charge_point=cp, action="Reset", payload={"type": "Soft"}, source="test")
    command_finish(command_id=command.pk, status="timeout")
    command_finish(command_id=command.pk, status="ok", response={"status": "Accepted"}, latency_ms=5)
    command_finish(command_id=command.pk, status="timeout")
    command.refresh_from_db()
    assert (command.status, command.response, command.latency_ms) == ("ok", {"status": "Accepted"}, 5)
    assert Command.objects.count() == 1


def test_send_command_task_records_the_command(cp):
    from apps.csms.commands import send_command

    assert send_command.delay(cp.pk, "ClearCache", {}).get() == "offline"
    command = Command.objects.get()
    assert (command.action, command.source, command.status) == ("ClearCache", "task", "offline")


def test_pending_registrations_are_capped(in_tenant_a, monkeypatch):
    monkeypatch.setattr("apps.csms.services.MAX_PENDING_UNKNOWN", 2)
    csms_settings_update(unknown_identity_policy="pending")
    allowed = [connection_authorize(identity=f"NEW-{i}", authorization=None, secure=False).allowed for i in range(3)]
    assert allowed == [True, True, False]
    # Known (already pending) chargers still get in.
    assert connection_authorize(identity="NEW-0", authorization=None, secure=False).allowed


def test_settings_api_is_for_admins(tenant_a, make_user, login):
    from apps.accounts.models import Role

    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    body = admin.get("/api/v1/ocpp-settings/").json()
    assert body == {
        "unknown_identity_policy": "reject",
        "heartbeat_interval": 300,
        "pending_retry_interval": 60,
        "message_log_retention_days": 30,
    }
    changed = admin.patch(
        "/api/v1/ocpp-settings/",
        {"unknown_identity_policy": "pending", "heartbeat_interval": 5},
        content_type="application/json",
    )
    assert changed.status_code == 400 and "heartbeat_interval" in changed.json()["errors"]
    changed = admin.patch(
        "/api/v1/ocpp-settings/", {"unknown_identity_policy": "pending"}, content_type="application/json"
    )
    assert changed.json()["unknown_identity_policy"] == "pending"
    tech = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    assert tech.get("/api/v1/ocpp-settings/").status_code == 403


def test_settings_are_per_organisation(tenant_a, tenant_b, make_user, login):
    from apps.accounts.models import Role

    login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN)).patch(
        "/api/v1/ocpp-settings/", {"unknown_identity_policy": "accept"}, content_type="application/json"
    )
    client_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert client_b.get("/api/v1/ocpp-settings/").json()["unknown_identity_policy"] == "reject"


def test_an_allowed_handshake_is_recorded_online_in_the_same_call(cp):
    refused = connection_authorize(
        identity="CP-1", authorization=basic("CP-1", "not-the-password!"), secure=False, connection_id="c-0"
    )
    assert not refused.allowed
    assert ChargePoint.objects.values_list("online", "connection_id").get(pk=cp.pk) == (False, "")
    decision = connection_authorize(
        identity="CP-1",
        authorization=basic("CP-1", PASSWORD),
        secure=False,
        connection_id="c-1",
        protocol_version="ocpp2.0.1",
    )
    assert decision.allowed
    cp.refresh_from_db()
    assert (cp.online, cp.connection_id, cp.protocol_version) == (True, "c-1", "ocpp2.0.1")
    assert cp.connected_at is not None and cp.last_seen == cp.connected_at
    # Without a connection id (no subprotocol agreed: accepted, then closed) nothing is recorded.
    assert connection_authorize(identity="CP-1", authorization=basic("CP-1", PASSWORD), secure=False).allowed
    assert ChargePoint.objects.get(pk=cp.pk).connection_id == "c-1"


def test_an_unknown_identity_let_in_is_recorded_online(in_tenant_a):
    csms_settings_update(unknown_identity_policy="pending")
    decision = connection_authorize(identity="NEW-2", authorization=None, secure=False, connection_id="c-9")
    cp = ChargePoint.objects.get(identity="NEW-2")
    assert decision.charge_point_id == cp.pk
    assert (cp.online, cp.connection_id, cp.registration_status) == (True, "c-9", "Pending")
