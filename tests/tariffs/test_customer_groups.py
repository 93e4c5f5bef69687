"""Customer-group prices reach the people in the group: QR page, running cost and CDR."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create, connector_status_record
from apps.charging.services import id_token_create, transaction_start, transaction_stop
from apps.qr.services import connector_codes_ensure
from apps.tariffs.models import CustomerGroup, TariffAssignment
from apps.tariffs.services import customer_group_create, tariff_assign, tariff_import_ocpi
from tests.conftest import host_of


def _tariff(ocpi_id, price):
    return tariff_import_ocpi(
        data={
            "country_code": "DE",
            "party_id": "EVZ",
            "id": ocpi_id,
            "currency": "EUR",
            "last_updated": "2026-01-01T00:00:00Z",
            "elements": [{"price_components": [{"type": "ENERGY", "price": price, "vat": 0, "step_size": 1}]}],
        }
    )


@pytest.mark.django_db
def test_members_get_their_groups_price_everywhere(tenant_a, make_user, login, django_capture_on_commit_callbacks):
    from apps.billing.models import ChargeDetailRecord

    member = make_user(tenant_a, role=Role.DRIVER)
    stranger = make_user(tenant_a, role=Role.DRIVER)
    with schema_context(tenant_a.schema_name):
        tariff_assign(tariff=_tariff("PUBLIC", "0.50"), scope=TariffAssignment.Scope.ORGANIZATION)
        members = customer_group_create(name="Club", kind=CustomerGroup.Kind.MEMBER)
        members.members.add(member)
        tariff_assign(tariff=_tariff("CLUB", "0.30"), scope=TariffAssignment.Scope.ORGANIZATION, customer_group=members)
        cp = charge_point_create(identity="GRP-CP", password="g" * 20)
        connector_status_record(
            charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Available", timestamp=timezone.now()
        )
        code = connector_codes_ensure(charge_point=cp)[0].code
        id_token_create(id_token="CLUB-CARD", owner=member)
        id_token_create(id_token="OTHER-CARD", owner=stranger)

    assert "0.30 EUR</strong> per kWh" in login(tenant_a, member).get(f"/c/{code}/").content.decode()
    assert "0.50 EUR</strong> per kWh" in login(tenant_a, stranger).get(f"/c/{code}/").content.decode()
    assert "0.50 EUR</strong> per kWh" in Client(HTTP_HOST=host_of(tenant_a)).get(f"/c/{code}/").content.decode()

    with schema_context(tenant_a.schema_name):
        for connector, tag in ((1, "CLUB-CARD"), (2, "OTHER-CARD")):
            tx, _ = transaction_start(
                charge_point_id=cp.pk,
                connector_id=connector,
                id_tag=tag,
                meter_start=0,
                timestamp=timezone.now() - dt.timedelta(minutes=30),
            )
            with django_capture_on_commit_callbacks(execute=True):
                transaction_stop(
                    charge_point_id=cp.pk, transaction_id=tx.transaction_id, meter_stop=10_000, timestamp=timezone.now()
                )
        totals = {c.transaction.id_tag: c.total_cost_excl_vat for c in ChargeDetailRecord.objects.all()}
    assert totals == {"CLUB-CARD": 3, "OTHER-CARD": 5}


@pytest.mark.django_db
def test_group_members_through_the_api(tenant_a, make_user, login):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    driver = make_user(tenant_a, role=Role.DRIVER)
    created = admin.post(
        "/api/v1/customer-groups/",
        {"name": "Fleet X", "kind": "fleet", "members": [driver.pk]},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["members"] == [driver.pk]
    cleared = admin.patch(
        f"/api/v1/customer-groups/{created.json()['id']}/", {"members": []}, content_type="application/json"
    )
    assert cleared.status_code == 200 and cleared.json()["members"] == []


@pytest.mark.django_db
def test_tariff_assigned_to_a_charger_group(tenant_a, make_user, login):
    from apps.chargers.models import ChargerGroup

    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    with schema_context(tenant_a.schema_name):
        tariff_assign(tariff=_tariff("PUBLIC", "0.50"), scope=TariffAssignment.Scope.ORGANIZATION)
        fast = _tariff("FAST", "0.70")
        fast.name = "Fast chargers"
        fast.save(update_fields=["name"])
        group = ChargerGroup.objects.create(name="HPC")
        in_group = charge_point_create(identity="HPC-1", password="h" * 20)
        other = charge_point_create(identity="AC-1", password="a" * 20)
        group.charge_points.add(in_group)
        for cp in (in_group, other):
            connector_status_record(
                charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Available", timestamp=timezone.now()
            )
    response = admin.post(
        f"/tariffs/{fast.pk}/assign/", {"scope": "charger_group", "charger_group": group.pk, "priority": 0}
    )
    assert response.status_code == 302
    assert "Fast chargers" in admin.get("/chargers/HPC-1/").content.decode()
    assert "Fast chargers" not in admin.get("/chargers/AC-1/").content.decode()
    with schema_context(tenant_a.schema_name):
        code = connector_codes_ensure(charge_point=in_group)[0].code
    assert "0.70 EUR</strong> per kWh" in Client(HTTP_HOST=host_of(tenant_a)).get(f"/c/{code}/").content.decode()
