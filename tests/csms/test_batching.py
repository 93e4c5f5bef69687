"""The group commit of MeterValues and StatusNotification (apps.csms.batching): behaviour only, never timing.

The batcher's database call runs inline on the test's connection (inside its rolled-back
transaction), on a real event loop: DJANGO_ALLOW_ASYNC_UNSAFE lets the ORM run on the
loop's thread, and the test's connection is handed to the loop's contexts explicitly
(Django would give a coroutine a connection of its own, which cannot see the test's data)."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, DataError, connection, connections, transaction
from django_tenants.utils import schema_context

from apps.chargers.services import charge_point_create
from apps.charging import services as charging
from apps.charging.models import MeterValue
from apps.charging.services import id_token_create, transaction_start
from apps.csms.batching import GroupCommit

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


class InlineDb:
    """run_in_schema's signature, run inline; records every call and can hold them back."""

    def __init__(self):
        self.conn = connections[DEFAULT_DB_ALIAS]  # the test's, taken outside the loop
        self.calls: list[tuple[str, int]] = []
        self.gate: asyncio.Event | None = None
        self.written = 0  # rows stored so far

    async def __call__(self, schema, fn, /, **kwargs):
        if self.gate is not None:
            await self.gate.wait()
        self.calls.append((fn.__name__, len(kwargs.get("items", [None]))))
        connections[DEFAULT_DB_ALIAS] = self.conn
        with schema_context(schema):
            result = fn(**kwargs)
        self.written = self.rows()
        return result

    def rows(self) -> int:
        connections[DEFAULT_DB_ALIAS] = self.conn
        return MeterValue.objects.count()


@pytest.fixture
def setup(in_tenant_a, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    id_token_create(id_token="TAG-BATCH")
    cps = [charge_point_create(identity=f"CP-BATCH-{i}", security_profile=0) for i in range(3)]
    tx, _ = transaction_start(
        charge_point_id=cps[0].pk, connector_id=1, id_tag="TAG-BATCH", meter_start=0, timestamp=T0
    )
    return connection.schema_name, cps, tx


def _item(cp, minute: int, value: str = "1", **extra) -> dict:
    sample = {"value": value, "measurand": "Energy.Active.Import.Register", **extra}
    return dict(
        charge_point_id=cp.pk,
        connector_id=1,
        meter_values=[{"timestamp": T0 + timedelta(minutes=minute), "sampled_value": [sample]}],
    )


def test_concurrent_requests_of_many_chargers_are_all_stored_in_one_write(setup):
    schema, cps, tx = setup
    db = InlineDb()
    batcher = GroupCommit(charging, "meter_values_record_many", "meter_values_record", db=db, delay=0.001)
    items = [_item(cp, minute) for cp in cps for minute in range(5)]
    items[0]["transaction_id"] = tx.transaction_id

    async def main():
        return await asyncio.gather(*(batcher.record(schema, **item) for item in items))

    assert asyncio.run(main()) == [1] * 15
    assert db.calls == [("meter_values_record_many", 15)]
    assert MeterValue.objects.count() == 15
    assert MeterValue.objects.filter(transaction=tx).count() == 1
    assert not batcher._queues  # nothing kept once idle


def test_items_arriving_during_a_write_go_in_the_next_one(setup):
    schema, cps, _ = setup
    db = InlineDb()
    batcher = GroupCommit(charging, "meter_values_record_many", "meter_values_record", db=db, delay=0.001)

    async def main():
        db.gate = asyncio.Event()
        first = asyncio.ensure_future(batcher.record(schema, **_item(cps[0], 1)))
        while not batcher._tasks:  # the first flush started and waits at the gate
            await asyncio.sleep(0.001)
        later = [asyncio.ensure_future(batcher.record(schema, **_item(cp, 2))) for cp in cps]
        await asyncio.sleep(0.01)
        db.gate.set()
        return await asyncio.gather(first, *later)

    assert asyncio.run(main()) == [1, 1, 1, 1]
    assert db.calls == [("meter_values_record_many", 1), ("meter_values_record_many", 3)]


def test_a_request_is_answered_only_after_its_write_returned(setup):
    schema, cps, _ = setup
    db = InlineDb()
    batcher = GroupCommit(charging, "meter_values_record_many", "meter_values_record", db=db, delay=0.001)
    answered_with_rows = []

    async def handler(item):
        result = await batcher.record(schema, **item)
        answered_with_rows.append(db.written)  # what was stored when the handler got its answer
        return result

    async def main():
        db.gate = asyncio.Event()
        tasks = [asyncio.ensure_future(handler(_item(cp, 1))) for cp in cps]
        await asyncio.sleep(0.02)  # the flush is due long before: it waits for the database
        assert not any(t.done() for t in tasks) and db.rows() == 0
        db.gate.set()
        return await asyncio.gather(*tasks)

    assert asyncio.run(main()) == [1, 1, 1]
    assert answered_with_rows == [3, 3, 3]


def test_a_bad_item_fails_alone_with_the_error_it_would_have_had(setup):
    schema, cps, _ = setup
    db = InlineDb()
    batcher = GroupCommit(charging, "meter_values_record_many", "meter_values_record", db=db, delay=0.001)
    bad = _item(cps[1], 1, unit="X" * 15)  # 2.x allows 20 characters, the column 12
    items = [_item(cps[0], 1), bad, _item(cps[2], 1)]

    async def main():
        return await asyncio.gather(*(batcher.record(schema, **item) for item in items), return_exceptions=True)

    first, second, third = asyncio.run(main())
    assert (first, third) == (1, 1)
    assert isinstance(second, DataError)
    # What the handler got before batching, for the same request (in a savepoint: the
    # failed INSERT would otherwise abort the test's transaction).
    with pytest.raises(DataError), transaction.atomic():
        charging.meter_values_record(**bad)
    assert set(MeterValue.objects.values_list("charge_point_id", flat=True)) == {cps[0].pk, cps[2].pk}
    assert db.calls[0] == ("meter_values_record_many", 3)  # then one by one
    assert sorted(db.calls[1:]) == [("meter_values_record_many", 1)] * 3


def test_the_1_6_handler_is_answered_after_the_batch_and_errors_become_internal_error(setup, monkeypatch):
    """The session path: MeterValues goes through the process-wide batcher when the session
    uses the real pool (here the pool function is swapped for the inline one)."""
    from apps.csms import batching
    from apps.csms.handlers.base import ChargerContext
    from apps.csms.handlers.v16 import V16Session

    schema, cps, tx = setup
    db = InlineDb()
    monkeypatch.setattr(
        batching,
        "meter_values",
        GroupCommit(charging, "meter_values_record_many", "meter_values_record", db=db, delay=0.001),
    )
    monkeypatch.setattr(batching, "run_in_schema", db)
    sent = []

    async def send(text):
        sent.append(json.loads(text))

    def session(cp):
        ctx = ChargerContext(schema=schema, charge_point_id=cp.pk, identity=cp.identity)
        return V16Session(ctx=ctx, send=send, db=db, log=lambda entry: None)

    sample = [{"timestamp": "2026-01-15T10:01:00Z", "sampledValue": [{"value": "5"}]}]
    ok = {"connectorId": 1, "transactionId": int(tx.transaction_id), "meterValue": sample}
    bad = {"connectorId": 2, "meterValue": sample}
    real = charging.meter_values_record_many

    def failing_for_connector_2(*, items):
        if any(i["connector_id"] == 2 for i in items):
            raise RuntimeError("boom")
        return real(items=items)

    monkeypatch.setattr(charging, "meter_values_record_many", failing_for_connector_2)

    async def main():
        await asyncio.gather(
            session(cps[0]).route_message(json.dumps([2, "a", "MeterValues", ok])),
            session(cps[1]).route_message(json.dumps([2, "b", "MeterValues", bad])),
        )

    asyncio.run(main())
    replies = {frame[1]: frame for frame in sent}
    assert replies["a"] == [3, "a", {}]
    assert replies["b"][:3] == [4, "b", "InternalError"]
    assert MeterValue.objects.get().transaction_id == tx.pk
    assert db.calls[0] == ("failing_for_connector_2", 2)  # one batch, then one by one


def test_status_notifications_of_many_chargers_in_one_write_newest_wins(setup):
    from apps.chargers import services as chargers
    from apps.chargers.models import Connector, ConnectorStatusHistory

    schema, cps, _ = setup
    db = InlineDb()
    batcher = GroupCommit(chargers, "connector_status_record_many", "connector_status_record", db=db, delay=0.001)

    def status(cp, status, minute, connector_id=1):
        return dict(
            charge_point_id=cp.pk,
            evse_id=connector_id,
            connector_id=connector_id,
            status=status,
            timestamp=T0 + timedelta(minutes=minute),
        )

    items = [status(cp, "Preparing", 1) for cp in cps]
    # Late arrival inside the same batch: the older Available must not undo Charging.
    items += [status(cps[0], "Charging", 5), status(cps[0], "Available", 3, connector_id=1)]
    items.append(status(cps[1], "Faulted", 2, connector_id=2) | {"error_code": "GroundFailure", "info": "RCD"})
    # Two with the same timestamp: as one after the other, the later one stays.
    items += [status(cps[2], "Available", 4, connector_id=3), status(cps[2], "Unavailable", 4, connector_id=3)]

    async def main():
        return await asyncio.gather(*(batcher.record(schema, **item) for item in items))

    assert asyncio.run(main()) == [None] * 8
    assert db.calls == [("connector_status_record_many", 8)]
    current = {(c.charge_point_id, c.connector_id): c for c in Connector.objects.filter(charge_point__in=cps)}
    assert current[(cps[0].pk, 1)].status == "Charging"
    assert current[(cps[0].pk, 1)].status_at == T0 + timedelta(minutes=5)
    assert current[(cps[1].pk, 1)].status == current[(cps[2].pk, 1)].status == "Preparing"
    faulted = current[(cps[1].pk, 2)]
    assert (faulted.status, faulted.error_code, faulted.info) == ("Faulted", "GroundFailure", "RCD")
    assert current[(cps[2].pk, 3)].status == "Unavailable"
    assert ConnectorStatusHistory.objects.filter(charge_point__in=cps).count() == 8


def test_a_bad_status_in_a_batch_fails_only_its_own_charger(setup):
    from apps.chargers import services as chargers
    from apps.chargers.models import Connector

    schema, cps, _ = setup
    db = InlineDb()
    batcher = GroupCommit(chargers, "connector_status_record_many", "connector_status_record", db=db, delay=0.001)
    good = dict(charge_point_id=cps[0].pk, evse_id=1, connector_id=1, status="Available", timestamp=T0)
    bad = dict(good, charge_point_id=cps[1].pk, status="X" * 500)  # longer than the column

    async def main():
        return await asyncio.gather(
            batcher.record(schema, **good), batcher.record(schema, **bad), return_exceptions=True
        )

    ok, failed = asyncio.run(main())
    assert ok is None and isinstance(failed, DataError)
    assert list(Connector.objects.filter(charge_point__in=cps).values_list("charge_point_id", "status")) == [
        (cps[0].pk, "Available")
    ]
