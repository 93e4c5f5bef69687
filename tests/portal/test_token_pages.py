import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.chargers.services import charge_point_create
from apps.charging.models import IdToken
from apps.charging.services import id_token_create, transaction_start


@pytest.mark.django_db
def test_operator_issues_edits_blocks_and_unblocks_a_card(tenant_a, make_user, login):
    driver = make_user(tenant_a, role=Role.DRIVER, email="dana@alpha.example")
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_STAFF))
    response = client.post(
        "/cards/new/",
        {"id_token": "04A1B2C3", "type": "ISO14443", "label": "Dana's card", "owner": driver.pk, "status": "Accepted"},
    )
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        card = IdToken.objects.get(id_token="04A1B2C3")
    assert card.owner_id == driver.pk
    # Same UID in other letter case: refused (CiString on the wire).
    dup = client.post("/cards/new/", {"id_token": "04a1b2c3", "type": "ISO14443", "status": "Accepted"})
    assert dup.status_code == 200 and "already exists" in dup.content.decode()
    client.post(f"/cards/{card.pk}/block/")
    card.refresh_from_db()
    assert card.status == IdToken.Status.BLOCKED
    listing = client.get("/cards/?status=Blocked").content.decode()
    assert "04A1B2C3" in listing and "Unblock" in listing
    client.post(f"/cards/{card.pk}/block/")
    card.refresh_from_db()
    assert card.status == IdToken.Status.ACCEPTED


@pytest.mark.django_db
def test_finance_reads_cards_but_cannot_change_them(tenant_a, make_user, login):
    with schema_context(tenant_a.schema_name):
        card = id_token_create(id_token="CARD-9")
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert "CARD-9" in client.get("/cards/").content.decode()
    assert client.post(f"/cards/{card.pk}/block/").status_code == 403
    assert client.get("/cards/new/").status_code == 403


@pytest.mark.django_db
def test_driver_sees_only_their_own_cards_and_sessions(tenant_a, make_user, login):
    dana = make_user(tenant_a, role=Role.DRIVER)
    other = make_user(tenant_a, role=Role.DRIVER)
    with schema_context(tenant_a.schema_name):
        cp = charge_point_create(identity="CP-DRV", password="x" * 20, name="Supermarket")
        id_token_create(id_token="DANA-1", owner=dana)
        id_token_create(id_token="OTHER-1", owner=other)
        transaction_start(
            charge_point_id=cp.pk, connector_id=1, id_tag="DANA-1", meter_start=0, timestamp=timezone.now()
        )
        transaction_start(
            charge_point_id=cp.pk, connector_id=2, id_tag="OTHER-1", meter_start=0, timestamp=timezone.now()
        )
    client = login(tenant_a, dana)
    body = client.get("/my/charging/").content.decode()
    assert "DANA-1" in body and "OTHER-1" not in body
    assert body.count("Supermarket") == 1
    assert client.get("/cards/").status_code == 403
