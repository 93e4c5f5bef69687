"""Each factory builds a valid, saved object in the test tenant's schema, with relations that
agree with each other and with what the services would have stored."""

import datetime as dt
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from freezegun import freeze_time

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint, Connector
from apps.chargers.passwords import check_charger_password
from apps.charging.models import IdToken, MeterValue, Transaction
from apps.charging.services import transaction_stop
from apps.tariffs.selectors import tariff_for_charging
from apps.tenants.models import validate_currency
from tests.factories.accounts import UserFactory
from tests.factories.billing import ChargeDetailRecordFactory
from tests.factories.chargers import CHARGER_PASSWORD, ChargePointFactory, ConnectorFactory, LocationFactory
from tests.factories.charging import IdTokenFactory, TransactionFactory
from tests.factories.tariffs import TariffAssignmentFactory, TariffFactory

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def test_location_is_valid_and_published_trait_has_coordinates(in_tenant_a):
    site = LocationFactory()
    site.full_clean()
    assert site.pk and site.country_alpha3 == "DEU" and not site.publish
    published = LocationFactory(published=True)
    published.full_clean()
    assert published.publish and published.latitude is not None and published.longitude is not None
    assert site.name != published.name


def test_charge_point_defaults_to_an_accepted_16_charger_whose_password_checks(in_tenant_a):
    cp = ChargePointFactory(location=LocationFactory(name="Depot"))
    cp.full_clean()
    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (stored.protocol_version, stored.registration_status, stored.security_profile) == ("ocpp1.6", "Accepted", 1)
    assert not stored.online and not stored.is_ocpp2 and stored.location.name == "Depot"
    assert check_charger_password(CHARGER_PASSWORD, stored.password_hash)
    assert not check_charger_password(CHARGER_PASSWORD + "x", stored.password_hash)
    assert not stored.connectors.exists()


def test_charge_point_variants(in_tenant_a):
    own = ChargePointFactory(password="another-charger-pass-01", ocpp201=True, online=True)
    assert own.is_ocpp2 and own.online and check_charger_password("another-charger-pass-01", own.password_hash)
    assert ChargePointFactory(ocpp21=True).is_ocpp21
    bare = ChargePointFactory(password=None, security_profile=0)
    assert not bare.has_password
    assert len({own.identity, bare.identity}) == 2


def test_charge_point_connectors_one_per_evse(in_tenant_a):
    cp = ChargePointFactory(connectors=2, connectors__status="Faulted")
    rows = Connector.objects.filter(charge_point=cp).values_list("evse_id", "connector_id", "status")
    assert list(rows) == [(1, 1, "Faulted"), (2, 2, "Faulted")]


def test_connector_factory_numbers_inside_an_evse_for_2x(in_tenant_a):
    cp = ChargePointFactory(ocpp201=True)
    ConnectorFactory(charge_point=cp, evse_id=1, connector_id=1)
    second = ConnectorFactory(charge_point=cp, evse_id=1, connector_id=2)
    second.full_clean()
    assert (second.evse_id, second.connector_id, second.status) == (1, 2, "Available")
    assert cp.connectors.count() == 2


def test_make_charge_point_writes_to_tenant_a_unless_told_otherwise(tenant_a, tenant_b, make_charge_point):
    in_a = make_charge_point(identity="ONLY-A")
    in_b = make_charge_point(org=tenant_b, identity="ONLY-B")
    with schema_context(tenant_a.schema_name):
        assert set(ChargePoint.objects.values_list("identity", flat=True)) == {"ONLY-A"}
    with schema_context(tenant_b.schema_name):
        assert set(ChargePoint.objects.values_list("identity", flat=True)) == {"ONLY-B"}
    assert in_a.pk and in_b.pk


def test_charge_point_fixture(in_tenant_a, charge_point):
    assert ChargePoint.objects.get() == charge_point


def test_id_tokens_are_distinct_accepted_cards(in_tenant_a):
    first, second = IdTokenFactory(), IdTokenFactory(owner=None, label="Fleet car")
    first.full_clean()
    assert first.id_token.upper() != second.id_token.upper()
    assert (first.type, first.status) == (IdToken.Type.ISO14443, IdToken.Status.ACCEPTED)


@freeze_time(NOW)
def test_transaction_is_a_16_transaction_the_services_can_stop(in_tenant_a):
    tx = TransactionFactory()
    assert tx.transaction_id == str(tx.pk) and tx.status == Transaction.Status.ACTIVE
    assert tx.id_tag == tx.id_token.id_token and tx.evse_id == tx.connector_id == 1
    assert tx.started_at == NOW - dt.timedelta(hours=1)
    completed_pk, _ = transaction_stop(
        charge_point_id=tx.charge_point_id, transaction_id=tx.transaction_id, meter_stop=4000, timestamp=NOW
    )
    assert completed_pk == tx.pk
    tx.refresh_from_db()
    assert (tx.status, tx.energy_wh) == (Transaction.Status.COMPLETED, 3000)


def test_completed_transaction_with_meter_values(in_tenant_a):
    start = NOW - dt.timedelta(hours=2)
    tx = TransactionFactory(completed=True, energy_wh=8000, started_at=start, meter_values=3)
    assert (tx.status, tx.energy_wh, tx.stopped_at) == ("Completed", 8000, start + dt.timedelta(hours=1))
    readings = list(MeterValue.objects.filter(transaction=tx).values_list("timestamp", "value"))
    assert [t for t, _ in readings] == [start + dt.timedelta(minutes=m) for m in (15, 30, 45)]
    assert [v for _, v in readings] == [Decimal(3000), Decimal(5000), Decimal(7000)]
    assert TransactionFactory(id_token=None).id_tag == ""


def test_tariff_is_one_energy_price_and_applies_once_assigned(in_tenant_a):
    tariff = TariffFactory(energy_price=Decimal("0.45"))
    tariff.full_clean()
    (component,) = [pc for e in tariff.elements.all() for pc in e.price_components.all()]
    assert (component.type, component.price, component.vat, component.step_size) == ("ENERGY", Decimal("0.45"), 19, 1)
    cp = ChargePointFactory()
    assert tariff_for_charging(charge_point=cp, evse_id=1, at=NOW) is None
    TariffAssignmentFactory(tariff=tariff)
    assert tariff_for_charging(charge_point=cp, evse_id=1, at=NOW) == tariff
    assert not TariffFactory(energy_price=False).elements.exists()


def test_cdr_is_priced_from_the_transaction(in_tenant_a):
    cdr = ChargeDetailRecordFactory()
    tx = cdr.transaction
    assert cdr.pk and tx.status == Transaction.Status.COMPLETED and cdr.tariff is not None
    validate_currency(cdr.currency)
    assert cdr.currency == "EUR" and cdr.charge_point_id == tx.charge_point_id
    # 10 kWh at 0.30 excl. 19 % VAT.
    assert cdr.total_energy == Decimal("10")
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (Decimal("3.00"), Decimal("3.57"))
    assert cdr.total_energy_cost_excl_vat == cdr.total_cost_excl_vat and cdr.total_time == Decimal(1)
    assert cdr.token_uid == tx.id_tag and cdr.token_type == "RFID" and not cdr.no_tariff
    assert cdr.tariffs[0]["id"] == cdr.tariff.ocpi_id and not cdr.invoices.exists()


def test_cdr_without_tariff_and_with_receipt(in_tenant_a):
    unpriced = ChargeDetailRecordFactory(tariff=None)
    assert unpriced.no_tariff and unpriced.total_cost_incl_vat == 0 and unpriced.total_energy == Decimal("10")
    driver = UserFactory(role=Role.DRIVER)
    cdr = ChargeDetailRecordFactory(issue_receipt=True, transaction__id_token__owner=driver)
    receipt = cdr.invoices.get()
    assert cdr.driver == receipt.customer == driver
    assert receipt.total_incl_vat == Decimal("3.57") and receipt.currency == "EUR"
    with pytest.raises(TypeError, match="total_cost_excl_vat"):
        ChargeDetailRecordFactory(total_cost_excl_vat=Decimal(1))
