import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.charging.services import id_token_create

URL = "/api/v1/id-tokens/"


@pytest.fixture
def staff_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))


def test_crud_and_case_insensitive_uniqueness(tenant_a, staff_a, make_user):
    owner = make_user(tenant_a, role=Role.DRIVER)
    created = staff_a.post(
        URL,
        {
            "id_token": "04A1B2C3",
            "type": "ISO14443",
            "status": "Accepted",
            "expires_at": "2030-01-01T00:00:00Z",
            "group_id": "FLEET",
            "owner": owner.pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    token_id = created.json()["id"]
    dup = staff_a.post(URL, {"id_token": "04a1b2c3"}, content_type="application/json")
    assert dup.status_code == 400 and "id_token" in dup.json()["errors"]
    blocked = staff_a.patch(f"{URL}{token_id}/", {"status": "Blocked"}, content_type="application/json")
    assert blocked.json()["status"] == "Blocked"
    assert staff_a.get(URL + "?status=Blocked").json()["count"] == 1
    assert staff_a.delete(f"{URL}{token_id}/").status_code == 204


def test_tenant_isolation(tenant_a, tenant_b, make_user, login):
    with schema_context(tenant_a.schema_name):
        token = id_token_create(id_token="ONLY-A")
    client_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert client_b.get(URL).json()["count"] == 0
    assert client_b.get(f"{URL}{token.pk}/").status_code == 404
