"""Charge detail records, priced the way the platform prices them (in the connection's schema)."""

import factory

from apps.billing.models import ChargeDetailRecord
from apps.billing.services import cdr_create_for_transaction
from apps.tariffs.models import TariffAssignment
from tests.factories.charging import TransactionFactory
from tests.factories.tariffs import TariffAssignmentFactory, TariffFactory


class ChargeDetailRecordFactory(factory.django.DjangoModelFactory):
    """The CDR of a completed transaction (10 kWh in an hour, three meter readings) under a
    TariffFactory tariff, created by apps.billing's own cdr_create_for_transaction: every
    amount, the token, the location snapshot and the OCPI tariff copy are the pricing's, so
    they agree with each other by construction.

    The tariff is assigned to the transaction's EVSE first (the most specific place, so it
    wins over organisation-wide assignments); tariff=None prices without one (no_tariff).
    No receipt is issued (issue_receipt=True to have one). Other CDR fields cannot be given:
    they are results of the pricing, not inputs."""

    class Meta:
        model = ChargeDetailRecord

    transaction = factory.SubFactory(TransactionFactory, completed=True, meter_values=3)
    tariff = factory.SubFactory(TariffFactory)
    issue_receipt = False

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("A CDR is priced from stored rows: use create().")

    @classmethod
    def _create(cls, model_class, *, transaction, tariff, issue_receipt, **unexpected):
        if unexpected:
            raise TypeError(f"CDR fields come from pricing, not from the factory: {sorted(unexpected)}")
        if tariff is not None:
            TariffAssignmentFactory(
                tariff=tariff,
                scope=TariffAssignment.Scope.EVSE,
                scope_ref=f"{transaction.charge_point.identity}/{transaction.evse_id}",
            )
        return cdr_create_for_transaction(transaction=transaction, issue_receipt=issue_receipt)
