"""meter_values_record_many: several MeterValues requests in one write, each stored as
meter_values_record would store it alone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DataError

from apps.chargers.services import charge_point_create
from apps.charging.models import MeterValue
from apps.charging.services import id_token_create, meter_values_record, meter_values_record_many, transaction_start

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def _mv(minutes: int, *values, **extra) -> list[dict]:
    return [
        {
            "timestamp": T0 + timedelta(minutes=minutes),
            "sampled_value": [{"value": v, "measurand": "Energy.Active.Import.Register", **extra} for v in values],
        }
    ]


@pytest.fixture
def chargers(in_tenant_a):
    id_token_create(id_token="TAG-MANY")
    cps = [charge_point_create(identity=f"CP-MANY-{i}", security_profile=0) for i in range(2)]
    txs = [
        transaction_start(charge_point_id=cp.pk, connector_id=1, id_tag="TAG-MANY", meter_start=0, timestamp=T0)[0]
        for cp in cps
    ]
    return cps, txs


def test_many_links_each_item_to_its_own_chargers_transaction(chargers):
    (cp1, cp2), (tx1, tx2) = chargers
    counts = meter_values_record_many(
        items=[
            dict(charge_point_id=cp1.pk, connector_id=1, transaction_id=tx1.transaction_id, meter_values=_mv(1, "10")),
            # cp1 asking for cp2's id: the lookup spans both chargers, but the pair does not exist.
            dict(charge_point_id=cp1.pk, connector_id=2, transaction_id=tx2.transaction_id, meter_values=_mv(1, "20")),
            dict(charge_point_id=cp2.pk, connector_id=1, transaction_id=tx2.transaction_id, meter_values=_mv(1, "30")),
            # 2.x: outside transactions, an EVSE of its own.
            dict(charge_point_id=cp2.pk, connector_id=0, evse_id=3, meter_values=_mv(1, "40", "41")),
        ]
    )
    assert counts == [1, 1, 1, 2]
    rows = {
        (r.charge_point_id, r.connector_id, r.evse_id, str(r.value)): r.transaction_id for r in MeterValue.objects.all()
    }
    assert rows == {
        (cp1.pk, 1, 1, "10.000000"): tx1.pk,
        (cp1.pk, 2, 2, "20.000000"): None,
        (cp2.pk, 1, 1, "30.000000"): tx2.pk,
        (cp2.pk, 0, 3, "40.000000"): None,
    }  # "41" is the same sample again (same timestamp, measurand...): skipped, as alone


def test_many_stores_what_meter_values_record_stores(chargers):
    (cp1, cp2), (tx1, _) = chargers
    signed = {"signed_meter_data": "abc", "signing_method": "ECDSA", "encoding_method": "OCMF"}
    values = [
        {
            "timestamp": T0 + timedelta(minutes=2),
            "sampled_value": [
                {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW", "phase": "L1"},
                {"value": "0x1F2E", "format": "SignedData"},
                {"value": "12.5", "measurand": "Current.Import", "unit": "A", "signed": signed},
            ],
        }
    ]

    def snapshot(cp):
        fields = ("transaction_id", "connector_id", "evse_id", "timestamp", "measurand", "phase", "unit", "context")
        fields += ("location", "value", "raw_value", "format", "signed")
        return sorted(MeterValue.objects.filter(charge_point=cp).values_list(*fields), key=repr)

    meter_values_record(charge_point_id=cp1.pk, connector_id=1, transaction_id=tx1.transaction_id, meter_values=values)
    # Same request for the other charger through the batch path; a retry of it is skipped.
    item = dict(charge_point_id=cp2.pk, connector_id=1, transaction_id=tx1.transaction_id, meter_values=values)
    assert meter_values_record_many(items=[item]) == [3]
    assert meter_values_record_many(items=[item]) == [3]
    alone, batched = snapshot(cp1), snapshot(cp2)
    assert len(alone) == 3
    # cp2 has no transaction with cp1's id: not linked.
    assert [r[1:] for r in alone] == [r[1:] for r in batched]
    assert {r[0] for r in alone} == {tx1.pk} and {r[0] for r in batched} == {None}


def test_a_failing_batch_stores_nothing(chargers):
    (cp1, _), _ = chargers
    good = dict(charge_point_id=cp1.pk, connector_id=1, meter_values=_mv(3, "1"))
    # 2.x allows a 20-character unit; the column holds 12.
    bad = dict(charge_point_id=cp1.pk, connector_id=1, meter_values=_mv(4, "2", unit="X" * 15))
    with pytest.raises(DataError):
        meter_values_record_many(items=[good, bad])
    assert not MeterValue.objects.filter(charge_point=cp1).exists()
    # The savepoint kept the test's transaction usable: the good item alone goes in.
    assert meter_values_record_many(items=[good]) == [1]
