from django.db import connection
from django.utils import timezone

from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_connected, charge_point_create
from apps.csms import messagelog
from apps.csms.models import MessageLog


def test_write_entries_bulk_inserts_and_touches_last_seen(in_tenant_a):
    cp = charge_point_create(identity="CP-LOG", security_profile=0)
    charge_point_connected(
        charge_point_id=cp.pk,
        connection_id="c1",
        protocol_version="ocpp1.6",
        at=timezone.now() - timezone.timedelta(minutes=5),
    )
    ChargePoint.objects.filter(pk=cp.pk).update(online=False)  # as if the sweep had run
    schema = connection.schema_name
    entries = [
        messagelog.entry(
            schema=schema,
            charge_point_id=cp.pk,
            identity="CP-LOG",
            direction="in",
            message_type=2,
            action="Heartbeat",
            unique_id=str(i),
            payload={},
            connection_id="c1",
        )
        for i in range(3)
    ]
    entries.append(
        messagelog.entry(
            schema=schema,
            charge_point_id=cp.pk,
            identity="CP-LOG",
            direction="out",
            message_type=0,
            raw="x" * 100_000,
            error_code="FormationViolation",
        )
    )
    messagelog.write_entries(entries=entries)
    connection.set_schema(schema)
    assert MessageLog.objects.filter(charge_point_id=cp.pk).count() == 4
    assert len(MessageLog.objects.get(message_type=0).raw) == 64_000
    cp.refresh_from_db()
    assert cp.online and cp.last_seen == entries[3]["timestamp"]


def test_a_failing_batch_is_dropped_not_raised(in_tenant_a, caplog):
    bad = messagelog.entry(schema="no_such_schema", charge_point_id=1, identity="X", direction="in", message_type=2)
    messagelog.write_entries(entries=[bad])
    assert "could not write" in caplog.text


def test_a_frame_postgres_refuses_does_not_cost_the_batch(in_tenant_a):
    schema = connection.schema_name
    good = messagelog.entry(
        schema=schema,
        charge_point_id=7,
        identity="CP",
        direction="in",
        message_type=2,
        action="DataTransfer",
        payload={"data": "fine"},
    )
    nul = messagelog.entry(
        schema=schema,
        charge_point_id=7,
        identity="CP",
        direction="in",
        message_type=2,
        action="DataTransfer",
        payload={"data": "bad\x00byte"},
        raw="raw\x00",
    )
    messagelog.write_entries(entries=[good, nul])
    connection.set_schema(schema)
    payloads = sorted(r.payload["data"] for r in MessageLog.objects.filter(charge_point_id=7))
    assert payloads == ["bad\ufffdbyte", "fine"]


def test_the_writer_keeps_password_cache_entries_of_chargers_that_send(in_tenant_a, monkeypatch):
    kept = []
    monkeypatch.setattr(
        "apps.csms.messagelog.shared_entries_keep",
        lambda *, schema, charge_point_ids: kept.append((schema, sorted(charge_point_ids))),
    )
    cp = charge_point_create(identity="LOG-KEEP", password="a-good-charger-password")
    schema = connection.schema_name
    common = {"schema": schema, "identity": cp.identity, "message_type": 2, "action": "Heartbeat"}
    messagelog.write_entries(
        entries=[
            messagelog.entry(charge_point_id=cp.pk, direction="in", connection_id="c1", **common),
            messagelog.entry(charge_point_id=cp.pk + 1000, direction="out", **common),  # ours, not theirs
        ]
    )
    assert kept == [(schema, [cp.pk])]
