"""Tariffs and where they apply (in the connection's current schema)."""

from decimal import Decimal

import factory

from apps.tariffs.models import PriceComponent, Tariff, TariffAssignment, TariffElement


class TariffFactory(factory.django.DjangoModelFactory):
    """A regular EUR tariff with one element: energy at 0.30 per kWh excl. 19 % VAT, billed per Wh.

    TariffFactory(energy_price=Decimal("0.45"), energy_price__vat=None, currency="CHF")
    changes the price, its VAT (None: no VAT applicable) or the currency;
    energy_price=False leaves the tariff without elements."""

    class Meta:
        model = Tariff
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Energy tariff {n}")
    country_code = "DE"
    party_id = "EVZ"
    currency = "EUR"
    type = Tariff.Type.REGULAR

    @factory.post_generation
    def energy_price(obj, create, extracted, vat=Decimal("19"), step_size=1, **kwargs):
        if not create or extracted is False:
            return
        element = TariffElement.objects.create(tariff=obj, position=0)
        PriceComponent.objects.create(
            element=element,
            position=0,
            type="ENERGY",
            price=Decimal("0.30") if extracted is None else Decimal(extracted),
            vat=vat,
            step_size=step_size,
        )


class TariffAssignmentFactory(factory.django.DjangoModelFactory):
    """The tariff for the whole organisation, for everybody, always."""

    class Meta:
        model = TariffAssignment

    tariff = factory.SubFactory(TariffFactory)
    scope = TariffAssignment.Scope.ORGANIZATION
    scope_ref = ""
