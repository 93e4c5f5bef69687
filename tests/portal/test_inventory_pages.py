"""A charger's connectors page: declare before the first connection, edit, remove."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import Connector
from apps.chargers.services import connector_status_record
from tests.portal.test_imports import inventory_urls

pytestmark = inventory_urls
URL = "/chargers/INV-1/connectors/"


@pytest.fixture
def charger(make_charge_point):
    return make_charge_point(identity="INV-1", security_profile=0, password=None)


@pytest.fixture
def tech(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))


def _connectors(tenant):
    with schema_context(tenant.schema_name):
        return {(c.evse_id, c.connector_id): c for c in Connector.objects.filter(charge_point__identity="INV-1")}


def test_declare_edit_and_remove_connectors(tenant_a, charger, tech):
    page = tech.get(URL)
    assert page.status_code == 200 and "Declare a connector" in page.content.decode()
    declared = tech.post(
        URL,
        {
            "action": "declare",
            "new-evse_id": 1,
            "new-connector_id": 1,
            "new-standard": "IEC_62196_T2",
            "new-format": "SOCKET",
            "new-power_type": "AC_3_PHASE",
            "new-max_voltage": 400,
            "new-max_amperage": 32,
            "new-max_electric_power": 22000,
            "new-ocpi_evse_id": "DE*EVZ*E1*1",
        },
    )
    assert declared.status_code == 302
    connector = _connectors(tenant_a)[(1, 1)]
    assert (connector.standard, connector.max_electric_power, connector.status) == ("IEC_62196_T2", 22000, "")

    bad = tech.post(
        URL,
        {
            "action": "save",
            "connector": connector.pk,
            f"c{connector.pk}-standard": "CHADEMO",
            f"c{connector.pk}-power_type": "AC_3_PHASE",
            f"c{connector.pk}-ocpi_evse_id": "nonsense",
        },
    )
    body = bad.content.decode()
    assert bad.status_code == 200 and "eMI3" in body
    assert _connectors(tenant_a)[(1, 1)].standard == "IEC_62196_T2"  # nothing saved

    with schema_context(tenant_a.schema_name):
        connector_status_record(
            charge_point_id=charger.pk, evse_id=1, connector_id=1, status="Available", timestamp=timezone.now()
        )
    saved = tech.post(
        URL,
        {
            "action": "save",
            "connector": connector.pk,
            f"c{connector.pk}-standard": "IEC_62196_T2",
            f"c{connector.pk}-power_type": "AC_1_PHASE",
            f"c{connector.pk}-max_electric_power": 7400,
        },
    )
    assert saved.status_code == 302
    connector = _connectors(tenant_a)[(1, 1)]
    assert (connector.power_type, connector.max_electric_power, connector.status) == ("AC_1_PHASE", 7400, "Available")
    # Reported by the charger: it exists in hardware and cannot be removed.
    tech.post(URL, {"action": "remove", "connector": connector.pk})
    assert (1, 1) in _connectors(tenant_a)

    tech.post(URL, {"action": "declare", "new-evse_id": 2, "new-connector_id": 2, "new-standard": "CHADEMO"})
    planned = _connectors(tenant_a)[(2, 2)]
    assert tech.post(URL, {"action": "remove", "connector": planned.pk}).status_code == 302
    assert (2, 2) not in _connectors(tenant_a)


def test_finance_reads_but_cannot_edit_and_other_tenants_see_nothing(tenant_a, tenant_b, charger, make_user, login):
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    page = finance.get(URL)
    assert page.status_code == 200 and "Declare a connector" not in page.content.decode()
    assert finance.post(URL, {"action": "declare", "new-evse_id": 1, "new-connector_id": 1}).status_code == 403
    other = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert other.get(URL).status_code == 404
