"""Id tokens, transactions and meter values (in the connection's current schema)."""

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.utils import timezone

from apps.charging.models import IdToken, MeterValue, Transaction
from tests.factories.chargers import ChargePointFactory

ENERGY_REGISTER = "Energy.Active.Import.Register"


class IdTokenFactory(factory.django.DjangoModelFactory):
    """An accepted RFID card. Written directly: id_token_create would also queue local-list
    pushes, which a test that only needs a card does not want."""

    class Meta:
        model = IdToken

    id_token = factory.Sequence(lambda n: f"CARD-{n:04d}")
    type = IdToken.Type.ISO14443
    status = IdToken.Status.ACCEPTED


class TransactionFactory(factory.django.DjangoModelFactory):
    """An OCPP 1.6 transaction on connector 1, started an hour ago with an accepted card and
    meter_start 1000 Wh; its transaction_id is its primary key, as apps.charging hands out.

    completed=True stops it `duration` after the start with `energy_wh` delivered;
    meter_values=N adds N energy register readings evenly between start and stop (or now)."""

    class Meta:
        model = Transaction
        skip_postgeneration_save = True

    class Params:
        energy_wh = 10_000
        duration = dt.timedelta(hours=1)
        completed = factory.Trait(
            status=Transaction.Status.COMPLETED,
            meter_stop=factory.LazyAttribute(lambda o: o.meter_start + o.energy_wh),
            stopped_at=factory.LazyAttribute(lambda o: o.started_at + o.duration),
            stop_reason="Local",
        )

    charge_point = factory.SubFactory(ChargePointFactory)
    connector_id = 1
    evse_id = factory.SelfAttribute("connector_id")
    id_token = factory.SubFactory(IdTokenFactory)
    id_tag = factory.LazyAttribute(lambda o: o.id_token.id_token if o.id_token else "")
    auth_status = IdToken.Status.ACCEPTED
    status = Transaction.Status.ACTIVE
    meter_start = 1000
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    start_key = factory.Sequence(lambda n: hashlib.sha256(f"factory-transaction-{n}".encode()).hexdigest())

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        tx = super()._create(model_class, *args, **kwargs)
        if tx.transaction_id is None:
            tx.transaction_id = str(tx.pk)
            model_class.objects.filter(pk=tx.pk).update(transaction_id=tx.transaction_id)
        return tx

    @factory.post_generation
    def meter_values(obj, create, extracted, **kwargs):
        if create and extracted:
            meter_values_add(obj, extracted, **kwargs)


def meter_values_add(tx: Transaction, count: int, *, energy_wh: int | None = None, **fields) -> list[MeterValue]:
    """`count` Energy.Active.Import.Register readings in Wh, evenly spaced strictly between
    the transaction's start and its stop (an active one: now), rising evenly towards the
    stop reading (an active one: by `energy_wh`, default 10 kWh)."""
    end = tx.stopped_at or timezone.now()
    total = tx.meter_stop - tx.meter_start if tx.meter_stop is not None else (energy_wh or 10_000)
    rows = [
        MeterValue(
            charge_point_id=tx.charge_point_id,
            transaction=tx,
            evse_id=tx.evse_id,
            connector_id=tx.connector_id,
            timestamp=tx.started_at + (end - tx.started_at) * i / (count + 1),
            measurand=ENERGY_REGISTER,
            unit="Wh",
            context="Sample.Periodic",
            value=Decimal(tx.meter_start + total * i // (count + 1)),
            **fields,
        )
        for i in range(1, count + 1)
    ]
    return MeterValue.objects.bulk_create(rows)
