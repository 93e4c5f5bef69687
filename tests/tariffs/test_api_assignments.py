import json

import pytest

from apps.accounts.models import Role
from tests.tariffs import ocpi_examples as ex

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))


def post(client, url, body):
    return client.post(url, json.dumps(body) if not isinstance(body, str) else body, content_type="application/json")


def _tariff(client, ocpi_id: str) -> int:
    return post(client, "/api/v1/tariffs/import-ocpi/", json.loads(ex.SIMPLE_2_PER_HOUR) | {"id": ocpi_id}).json()["id"]


def test_assign_and_ask_for_the_effective_tariff(admin_a):
    public, fleet_tariff = _tariff(admin_a, "public"), _tariff(admin_a, "fleet")
    fleet = post(admin_a, "/api/v1/customer-groups/", {"name": "Taxi", "kind": "fleet"})
    assert fleet.status_code == 201
    fleet_id = fleet.json()["id"]
    created = post(admin_a, "/api/v1/tariff-assignments/", {"tariff": public, "scope": "location", "scope_ref": "7"})
    assert created.status_code == 201, created.json()
    post(
        admin_a,
        "/api/v1/tariff-assignments/",
        {"tariff": fleet_tariff, "scope": "organization", "customer_group": fleet_id},
    )
    here = admin_a.get("/api/v1/tariff-assignments/effective/?location=7")
    assert here.status_code == 200 and here.json()["id"] == public
    as_fleet = admin_a.get(f"/api/v1/tariff-assignments/effective/?location=7&customer_group={fleet_id}")
    assert as_fleet.json()["id"] == fleet_tariff
    nowhere = admin_a.get("/api/v1/tariff-assignments/effective/?location=8")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "not_found"
    assert admin_a.delete(f"/api/v1/tariff-assignments/{created.json()['id']}/").status_code == 204
    assert admin_a.get("/api/v1/tariff-assignments/effective/?location=7").status_code == 404


def test_assignment_validation_uses_the_error_format(admin_a):
    tariff = _tariff(admin_a, "t")
    missing_ref = post(admin_a, "/api/v1/tariff-assignments/", {"tariff": tariff, "scope": "evse"})
    assert missing_ref.status_code == 400 and missing_ref.json()["code"] == "invalid"
    bad_scope = post(admin_a, "/api/v1/tariff-assignments/", {"tariff": tariff, "scope": "planet", "scope_ref": "x"})
    assert bad_scope.status_code == 400 and "scope" in bad_scope.json()["errors"]
    bad_group = admin_a.get("/api/v1/tariff-assignments/effective/?customer_group=abc")
    assert bad_group.status_code == 400 and "customer_group" in bad_group.json()["errors"]


def test_assignments_are_per_organisation(admin_a, tenant_b, make_user, login):
    admin_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    theirs = _tariff(admin_b, "b")
    post(admin_b, "/api/v1/tariff-assignments/", {"tariff": theirs, "scope": "organization"})
    assert admin_a.get("/api/v1/tariff-assignments/").json()["count"] == 0
    assert admin_a.get("/api/v1/tariff-assignments/effective/").status_code == 404
    # A's tariff ids do not reach into B's schema either.
    refused = post(admin_a, "/api/v1/tariff-assignments/", {"tariff": theirs, "scope": "organization"})
    assert refused.status_code == 400 and "tariff" in refused.json()["errors"]
