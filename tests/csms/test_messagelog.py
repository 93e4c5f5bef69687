import pytest
from django.conf import settings
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
    cut = MessageLog.objects.get(message_type=0)
    assert len(cut.raw) == settings.OCPP_LOG_MAX_PAYLOAD_BYTES
    assert cut.payload == {
        messagelog.NOTE: {"raw": "truncated: 100000 characters, the first 65536 kept"},
        "payload": None,
    }
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
    rows = {r.payload.get("payload", r.payload)["data"]: r for r in MessageLog.objects.filter(charge_point_id=7)}
    assert sorted(rows) == ["bad\ufffdbyte", "fine"]
    assert rows["bad\ufffdbyte"].payload[messagelog.NOTE] == {"payload": messagelog._NUL, "raw": messagelog._NUL}


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


# ---------------------------------------------------------------- one bad row costs only that row (issue #16)


def _deep(levels: int):
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


BAD_ROWS = {
    "overlong action": {"action": "A" * 10_000},
    "overlong error code": {"message_type": 4, "error_code": "E" * 60},
    "NUL in the action": {"action": "Data\x00Transfer"},
    "NUL in the payload": {"payload": {"data": "bad\x00byte", "k\x00": 1}},
    "NUL in raw": {"message_type": 0, "raw": "[2,\x00"},
    "lone surrogate": {"payload": {"data": "\ud800"}},
    "500 levels deep": {"payload": _deep(500)},
}


def _heartbeat(schema, cp, uid, **fields):
    values = {"action": "Heartbeat", "payload": {}, **fields}
    return messagelog.entry(
        schema=schema,
        charge_point_id=cp.pk,
        identity=cp.identity,
        direction="in",
        message_type=values.pop("message_type", 2),
        unique_id=uid,
        connection_id="c1",
        **values,
    )


def _stale_online_charger(identity):
    cp = charge_point_create(identity=identity, security_profile=0)
    charge_point_connected(
        charge_point_id=cp.pk,
        connection_id="c1",
        protocol_version="ocpp1.6",
        at=timezone.now() - timezone.timedelta(minutes=5),
    )
    ChargePoint.objects.filter(pk=cp.pk).update(online=False)  # as if the stale sweep had run
    return cp


@pytest.mark.parametrize("bad", list(BAD_ROWS.values()), ids=list(BAD_ROWS))
def test_a_bad_row_costs_only_that_row_and_is_stored_marked(in_tenant_a, bad):
    cp = _stale_online_charger("CP-BAD")
    schema = connection.schema_name
    entries = [_heartbeat(schema, cp, "good-1"), _heartbeat(schema, cp, "bad", **bad), _heartbeat(schema, cp, "good-2")]
    messagelog.write_entries(entries=entries)
    connection.set_schema(schema)
    rows = {r.unique_id: r for r in MessageLog.objects.filter(charge_point_id=cp.pk)}
    assert set(rows) == {"good-1", "bad", "good-2"}
    assert rows["good-1"].payload == {} and rows["good-2"].payload == {}
    marked = rows["bad"]
    assert messagelog.NOTE in marked.payload, marked.payload
    assert len(marked.action) <= 64 and len(marked.error_code) <= 40 and "\x00" not in marked.action + marked.raw
    cp.refresh_from_db()
    assert cp.online and cp.last_seen == entries[-1]["timestamp"]


def test_every_kind_of_bad_row_in_one_flush(in_tenant_a):
    """The observed failure: an overlong action sends the batch down the row-by-row path,
    where a payload 500 levels deep raised RecursionError and the whole flush was lost."""
    cp = _stale_online_charger("CP-BAD-ALL")
    schema = connection.schema_name
    entries = [_heartbeat(schema, cp, f"good-{i}") for i in range(5)]
    entries += [_heartbeat(schema, cp, name, **fields) for name, fields in BAD_ROWS.items()]
    messagelog.write_entries(entries=entries)
    connection.set_schema(schema)
    rows = {r.unique_id: r for r in MessageLog.objects.filter(charge_point_id=cp.pk)}
    assert set(rows) == {e["unique_id"] for e in entries}
    assert all(messagelog.NOTE in rows[name].payload for name in BAD_ROWS)
    assert all(rows[f"good-{i}"].payload == {} for i in range(5))
    cp.refresh_from_db()
    assert cp.online


def test_a_payload_over_the_log_cap_is_stored_truncated_and_marked(in_tenant_a):
    cp = _stale_online_charger("CP-BIG")
    schema = connection.schema_name
    big = {"vendorId": "ACME", "data": "x" * (settings.OCPP_LOG_MAX_PAYLOAD_BYTES + 1)}
    messagelog.write_entries(entries=[_heartbeat(schema, cp, "big", action="DataTransfer", payload=big)])
    connection.set_schema(schema)
    row = MessageLog.objects.get(charge_point_id=cp.pk)
    note = row.payload[messagelog.NOTE]
    assert "payload" in note and "truncated" in note["payload"]
    stored = row.payload["payload"]
    assert isinstance(stored, str) and stored.startswith('{"vendorId":"ACME","data":"xxx')
    assert len(stored) <= settings.OCPP_LOG_MAX_PAYLOAD_BYTES


def test_liveness_is_kept_when_the_log_insert_fails(in_tenant_a, caplog):
    """last_seen, the revival of a charger the sweep took for dead and the password cache
    entry never depend on the log being written."""
    from django.core.cache import caches
    from django.test import override_settings

    from apps.chargers import passwords

    cp = _stale_online_charger("CP-LIVE")
    schema = connection.schema_name
    passwords.verified_cache_clear()
    with override_settings(OCPP_AUTH_CACHE_SECONDS=100):
        encoded = passwords.hash_charger_password("a-good-charger-password")
        assert passwords.check_charger_password_cached(
            "a-good-charger-password", encoded, charge_point_id=cp.pk, schema=schema
        )
        key, mac, written = passwords._live[(schema, cp.pk)]
        passwords._live[(schema, cp.pk)] = (key, mac, written - 60)  # written 60 s ago: due
        caches["default"].set(key, f"{written - 60:.0f}:{mac}", 40)
        with connection.cursor() as cursor:  # the insert fails for real, in this test's transaction
            cursor.execute("ALTER TABLE csms_messagelog RENAME TO csms_messagelog_gone")
        entries = [_heartbeat(schema, cp, "hb-1"), _heartbeat(schema, cp, "hb-2", action="X" * 100)]
        entries.append(_heartbeat(schema, cp, "hb-3", payload=_deep(500)))
        messagelog.write_entries(entries=entries)
        connection.set_schema(schema)
        cp.refresh_from_db()
        assert cp.online and cp.last_seen == entries[-1]["timestamp"]
        assert float(caches["default"].get(key).partition(":")[0]) >= written - 1
        assert "could not write 3 entries" in caplog.text
    passwords.verified_cache_clear()
