import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.tariffs import selectors, services
from apps.tariffs.engine import Session, price_session
from apps.tariffs.models import CustomerGroup, Tariff, TariffAssignment
from apps.tariffs.ocpi import OcpiTariffSerializer, tariff_to_domain, tariff_to_ocpi
from tests.tariffs import ocpi_examples as ex

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC)
Scope = TariffAssignment.Scope


def _import(text: str, **changes) -> Tariff:
    data = json.loads(text, parse_float=Decimal) | changes
    serializer = OcpiTariffSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return services.tariff_import_ocpi(data=serializer.validated_data)


def test_stored_tariff_prices_like_the_ocpi_json(in_tenant_a):
    from tests.tariffs.helpers import ocpi

    tariff = selectors.tariff_list().get(pk=_import(ex.COMPLEX).pk)
    session = Session(
        start=NOW.replace(hour=9, minute=30),
        end=NOW.replace(hour=12, minute=57),
        charging_end=NOW.replace(hour=12, minute=15),
        energy_wh=Decimal(10000),
        current_a=Decimal(16),
    )
    stored = price_session(tariff_to_domain(tariff), session)
    assert (stored.total_excl_vat, stored.total_incl_vat) == (Decimal("9.00"), Decimal("10.30"))
    assert stored.exact_incl_vat == price_session(ocpi(ex.COMPLEX), session).exact_incl_vat
    assert tariff_to_ocpi(tariff) == json.loads(ex.COMPLEX, parse_float=Decimal)


def test_tariff_import_keeps_ocpi_last_updated_and_update_refreshes_it(in_tenant_a):
    tariff = _import(ex.SIMPLE_2_PER_HOUR)
    assert tariff.last_updated == dt.datetime(2015, 6, 29, 20, 39, 9, tzinfo=dt.UTC)
    data = OcpiTariffSerializer(data=json.loads(ex.SIMPLE_025_KWH)).run_validation(json.loads(ex.SIMPLE_025_KWH))
    services.tariff_update(tariff=tariff, data=data)
    tariff.refresh_from_db()
    assert tariff.last_updated > NOW and tariff.elements.get().price_components.get().type == "ENERGY"


def test_same_ocpi_id_of_another_party_is_allowed_but_not_twice(in_tenant_a):
    _import(ex.SIMPLE_2_PER_HOUR)
    _import(ex.SIMPLE_2_PER_HOUR, party_id="XYZ")
    with pytest.raises(ValidationError):
        _import(ex.SIMPLE_2_PER_HOUR)


def test_effective_tariff_precedence(in_tenant_a):
    fleet = services.customer_group_create(name="Taxi fleet", kind=CustomerGroup.Kind.FLEET)
    members = services.customer_group_create(name="Members", kind=CustomerGroup.Kind.MEMBER)
    default, site, evse, group_site, fleet_org, later = (_import(ex.SIMPLE_2_PER_HOUR, id=f"t{i}") for i in range(6))
    services.tariff_assign(tariff=default, scope=Scope.ORGANIZATION)
    services.tariff_assign(tariff=site, scope=Scope.LOCATION, scope_ref="7")
    services.tariff_assign(tariff=evse, scope=Scope.EVSE, scope_ref="CP-1/1")
    services.tariff_assign(tariff=group_site, scope=Scope.LOCATION, scope_ref="7", customer_group=members)
    services.tariff_assign(tariff=fleet_org, scope=Scope.ORGANIZATION, customer_group=fleet)

    def effective(**kwargs):
        return selectors.tariff_effective(at=NOW, **kwargs)

    assert effective() == default
    assert effective(location_ref="7") == site
    assert effective(location_ref="7", evse_ref="CP-1/1") == evse  # EVSE beats location
    assert effective(location_ref="7", evse_ref="CP-1/1", customer_group_ids=[members.pk]) == group_site
    # A group's contract beats any place-specific public tariff, even at organisation level.
    assert effective(location_ref="7", evse_ref="CP-1/1", customer_group_ids=[fleet.pk]) == fleet_org
    # Same place and group: priority, then the later valid_from decides.
    services.tariff_assign(
        tariff=later,
        scope=Scope.LOCATION,
        scope_ref="7",
        priority=5,
        valid_from=NOW - dt.timedelta(days=1),
        valid_until=NOW + dt.timedelta(days=1),
    )
    assert effective(location_ref="7") == later
    assert selectors.tariff_effective(at=NOW + dt.timedelta(days=2), location_ref="7") == site


def test_assignment_needs_a_reference_unless_organisation_wide(in_tenant_a):
    tariff = _import(ex.SIMPLE_2_PER_HOUR)
    with pytest.raises(ValidationError):
        services.tariff_assign(tariff=tariff, scope=Scope.LOCATION)
    with pytest.raises(ValidationError):
        services.tariff_assign(tariff=tariff, scope=Scope.ORGANIZATION, scope_ref="7")
    with pytest.raises(ValidationError):
        services.tariff_assign(tariff=tariff, scope=Scope.EVSE, scope_ref="CP-1/1", valid_from=NOW, valid_until=NOW)


def test_operator_admin_pages_render(tenant_a, make_user, login):
    from django_tenants.utils import schema_context

    from apps.accounts.models import Role

    with schema_context(tenant_a.schema_name):
        tariff = _import(ex.COMPLEX)
        element = tariff.elements.first()
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    for url in (
        "/admin/tariffs/tariff/",
        f"/admin/tariffs/tariff/{tariff.pk}/change/",
        f"/admin/tariffs/tariffelement/{element.pk}/change/",
        "/admin/tariffs/tariffassignment/add/",
        "/admin/tariffs/customergroup/",
    ):
        assert client.get(url).status_code == 200, url
