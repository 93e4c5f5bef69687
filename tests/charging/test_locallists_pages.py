"""Local-list pages and API: permissions, what they show, tenant isolation."""

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.models import ChargePoint
from apps.chargers.services import charge_point_create
from apps.charging.locallists import local_auth_list_create
from apps.charging.models import LocalAuthList, LocalListState
from apps.charging.services import id_token_create

pytestmark = pytest.mark.django_db
API = "/api/v1/local-lists/"


@pytest.fixture
def setup_a(tenant_a):
    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="PG-1", password="a-charger-password-01")
        ChargePoint.objects.filter(pk=cp.pk).update(online=True)
        cards = [id_token_create(id_token="CARD-A", group_id="G1"), id_token_create(id_token="CARD-B")]
    return cp, cards


@pytest.fixture
def staff_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))


@pytest.fixture
def finance_a(tenant_a, make_user, login):
    return login(tenant_a, make_user(tenant_a, role=Role.FINANCE))


def test_operator_creates_a_list_and_pushes_it_from_the_charger_page(tenant_a, setup_a, staff_a, command_bus):
    cp, cards = setup_a
    assert staff_a.get("/local-lists/").status_code == 200
    form = staff_a.get("/local-lists/new/").content.decode()
    assert "G1" in form and "PG-1" in form
    response = staff_a.post(
        "/local-lists/new/",
        {"name": "Fleet G1", "mode": "groups", "group_ids": ["G1"], "include_refused": "on", "charge_points": [cp.pk]},
    )
    assert response.status_code == 302, response.content
    with schema_context(tenant_a.schema_name):
        lst = LocalAuthList.objects.get(name="Fleet G1")
        assert lst.group_ids == ["G1"] and list(lst.charge_points.all()) == [cp]
    page = staff_a.get(f"/chargers/{cp.identity}/local-list/").content.decode()
    assert "CARD-A" in page and "CARD-B" not in page and "Push full list" in page and "pending" in page
    pushed = staff_a.post(f"/chargers/{cp.identity}/local-list/push/", {"update_type": "full"}, follow=True)
    assert "Full v1: Accepted" in pushed.content.decode()
    assert command_bus.sent[0]["localAuthorizationList"] == [
        {"idTag": "CARD-A", "idTagInfo": {"status": "Accepted", "parentIdTag": "G1"}}
    ]
    assert "in sync" in staff_a.get(f"/chargers/{cp.identity}/local-list/").content.decode()
    listing = staff_a.get("/local-lists/").content.decode()
    assert "Fleet G1" in listing and "PG-1" in listing
    # Edit to chosen cards, then delete.
    staff_a.post(f"/local-lists/{lst.pk}/", {"name": "Fleet G1", "mode": "tokens", "tokens": [cards[1].pk]})
    with schema_context(tenant_a.schema_name):
        assert list(LocalAuthList.objects.get(pk=lst.pk).tokens.all()) == [cards[1]]
    assert staff_a.post(f"/local-lists/{lst.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not LocalAuthList.objects.exists()


def test_groups_mode_without_groups_is_an_error_on_the_form(setup_a, staff_a):
    response = staff_a.post("/local-lists/new/", {"name": "Nothing", "mode": "groups"})
    assert response.status_code == 200 and "Choose at least one group" in response.content.decode()


def test_finance_reads_but_cannot_push_or_edit(tenant_a, setup_a, finance_a, command_bus):
    cp, _ = setup_a
    assert finance_a.get(f"/chargers/{cp.identity}/local-list/").status_code == 200
    assert "Push full list" not in finance_a.get(f"/chargers/{cp.identity}/local-list/").content.decode()
    assert finance_a.get("/local-lists/").status_code == 200
    assert finance_a.post(f"/chargers/{cp.identity}/local-list/push/", {"update_type": "full"}).status_code == 403
    assert finance_a.get("/local-lists/new/").status_code == 403
    assert finance_a.post(API, {"name": "x"}, content_type="application/json").status_code == 403
    assert finance_a.post(f"/api/v1/charge-points/{cp.identity}/local-list/push/").status_code == 403
    assert command_bus.sent == []


def test_driver_cannot_see_local_lists(tenant_a, setup_a, make_user, login):
    driver = login(tenant_a, make_user(tenant_a, role=Role.DRIVER))
    assert driver.get("/local-lists/").status_code == 403
    assert driver.get(API).status_code == 403


def test_api_crud_and_push(tenant_a, setup_a, staff_a, command_bus):
    cp, cards = setup_a
    created = staff_a.post(
        API,
        {"name": "Picked", "mode": "tokens", "tokens": [cards[0].pk], "charge_points": [cp.identity]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["charge_points"] == ["PG-1"] and body["tokens"] == [cards[0].pk]
    bad = staff_a.post(API, {"name": "G", "mode": "groups", "group_ids": []}, content_type="application/json")
    assert bad.status_code == 400 and "group_ids" in bad.json()["errors"]

    push = staff_a.post(
        f"/api/v1/charge-points/{cp.identity}/local-list/push/",
        {"update_type": "full"},
        content_type="application/json",
    )
    assert push.status_code == 200, push.content
    assert push.json()["status"] == "accepted" and push.json()["list_version"] == 1
    assert push.json()["answer"] == "Accepted" and push.json()["sync_status"] == "in_sync"

    patched = staff_a.patch(
        f"{API}{body['id']}/", {"tokens": [cards[0].pk, cards[1].pk]}, content_type="application/json"
    )
    assert patched.status_code == 200
    with schema_context(tenant_a.schema_name):
        assert LocalListState.objects.get(charge_point=cp).status == "pending"
    push = staff_a.post(f"/api/v1/charge-points/{cp.identity}/local-list/push/", content_type="application/json")
    assert push.json()["update_type"] == "Differential" and push.json()["list_version"] == 2
    assert command_bus.sent[-1]["localAuthorizationList"] == [{"idTag": "CARD-B", "idTagInfo": {"status": "Accepted"}}]

    command_bus.answers = ["offline"]
    with schema_context(tenant_a.schema_name):
        ChargePoint.objects.filter(pk=cp.pk).update(online=False)
    offline = staff_a.post(
        f"/api/v1/charge-points/{cp.identity}/local-list/push/",
        {"update_type": "full"},
        content_type="application/json",
    )
    assert offline.status_code == 409 and offline.json()["status"] == "offline"
    bad_kind = staff_a.post(
        f"/api/v1/charge-points/{cp.identity}/local-list/push/", {"update_type": "x"}, content_type="application/json"
    )
    assert bad_kind.status_code == 400
    assert staff_a.get(API).json()["count"] == 1
    assert staff_a.delete(f"{API}{body['id']}/").status_code == 204


def test_tenant_isolation(tenant_a, tenant_b, setup_a, make_user, login, command_bus):
    cp, _ = setup_a
    with schema_context(tenant_a.schema_name):
        lst = local_auth_list_create(name="Only A", charge_points=[cp])
    client_b = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    assert client_b.get(API).json()["count"] == 0
    assert client_b.get(f"{API}{lst.pk}/").status_code == 404
    assert client_b.post(f"/api/v1/charge-points/{cp.identity}/local-list/push/").status_code == 404
    assert client_b.get(f"/chargers/{cp.identity}/local-list/").status_code == 404
    assert client_b.get(f"/local-lists/{lst.pk}/").status_code == 404
    assert "Only A" not in client_b.get("/local-lists/").content.decode()
    # A tenant-A card id is not a valid choice in tenant B.
    with schema_context(tenant_a.schema_name):
        card_a = id_token_create(id_token="A-ONLY")
    response = client_b.post(
        API, {"name": "B", "mode": "tokens", "tokens": [card_a.pk]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert command_bus.sent == []
