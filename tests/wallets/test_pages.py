"""Wallet pages and API: a driver sees only their own statement, staff see every wallet,
only admins move money (recorded with who did it), CSV, and tenant isolation."""

import csv
import io
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.wallets.models import JournalEntry
from apps.wallets.services import wallet_get_or_create, wallet_topup_confirm

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def funded(tenant_a, make_user):
    driver = make_user(tenant_a, role=Role.DRIVER, email="wanda@example.com")
    other = make_user(tenant_a, role=Role.DRIVER, email="otto@example.com")
    with schema_context(tenant_a.schema_name):
        wallet = wallet_get_or_create(user=driver)
        wallet_topup_confirm(account=wallet, amount=Decimal("12.50"), currency="EUR", payment_reference="pi_page")
        other_wallet = wallet_get_or_create(user=other)
    return {"driver": driver, "other": other, "wallet": wallet, "other_wallet": other_wallet}


def test_driver_sees_own_statement_and_csv(tenant_a, login, funded):
    client = login(tenant_a, funded["driver"])
    page = client.get("/wallets/")
    assert page.status_code == 200 and b"12.50 EUR" in page.content
    rows = list(csv.reader(io.StringIO(b"".join(client.get("/wallets/export.csv").streaming_content).decode())))
    assert rows[0][:4] == ["line", "date_utc", "kind", "amount"] and rows[1][2:6] == ["topup", "12.50", "EUR", "12.50"]
    api = client.get("/api/v1/wallets/").json()
    assert [w["balance"] for w in api["results"]] == ["12.50"]
    # Another driver's wallet, or the staff pages: not for drivers.
    assert client.get(f"/api/v1/wallets/{funded['other_wallet'].pk}/").status_code == 404
    assert client.get(f"/wallets/accounts/{funded['wallet'].pk}/").status_code == 403


@pytest.mark.parametrize("role", [Role.FINANCE, Role.OPERATOR_ADMIN])
def test_staff_see_every_wallet(tenant_a, make_user, login, funded, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    pk = funded["wallet"].pk
    for url in [
        "/wallets/accounts/",
        f"/wallets/accounts/{pk}/",
        f"/wallets/accounts/{pk}/export.csv",
        "/api/v1/wallets/",
        f"/api/v1/wallets/{pk}/lines/",
    ]:
        assert client.get(url).status_code == 200, url


def test_only_admins_adjust_and_the_adjustment_names_them(tenant_a, make_user, login, funded):
    pk = funded["wallet"].pk
    form = {"action": "adjust", "amount": "-2.50", "reason": "goodwill reversed", "key": "k1"}
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.post(f"/wallets/accounts/{pk}/move/", form).status_code == 403
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN, email="ada@alpha.example")
    client = login(tenant_a, admin)
    assert client.post(f"/wallets/accounts/{pk}/move/", form).status_code == 302
    assert client.post(f"/wallets/accounts/{pk}/move/", form).status_code == 302  # double submit
    with schema_context(tenant_a.schema_name):
        [entry] = JournalEntry.objects.filter(kind="adjustment")
        assert entry.created_by == admin and entry.memo == "goodwill reversed"
        funded["wallet"].refresh_from_db()
        assert funded["wallet"].balance == Decimal("10.00")


def test_tenant_isolation(tenant_a, tenant_b, make_user, login, funded):
    """Beta's staff cannot see Alpha's wallets: the ids do not exist in Beta's schema."""
    client = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    pk = funded["wallet"].pk
    assert client.get("/api/v1/wallets/").json()["results"] == []
    for url in [
        f"/wallets/accounts/{pk}/",
        f"/wallets/accounts/{pk}/export.csv",
        f"/api/v1/wallets/{pk}/",
        f"/api/v1/wallets/{pk}/lines/",
    ]:
        assert client.get(url).status_code == 404, url
    # An Alpha session cookie means nothing on Beta's host.
    alpha = login(tenant_a, funded["driver"])
    alpha.defaults["HTTP_HOST"] = tenant_b.primary_domain.domain
    assert alpha.get("/wallets/").status_code == 302


def test_group_pages_do_not_cross_tenants(tenant_a, tenant_b, make_user, login, funded):
    from apps.wallets.groups import group_wallet_create

    with schema_context(tenant_a.schema_name):
        group = group_wallet_create(owner=funded["driver"], name="Alpha family")
    beta_user = make_user(tenant_b, role=Role.DRIVER, email="wanda@example.com")  # same e-mail, other org
    client = login(tenant_b, beta_user)
    for url in [f"/wallets/groups/{group.pk}/", f"/wallets/groups/{group.pk}/statement.csv"]:
        assert client.get(url).status_code == 404, url
    assert b"Alpha family" not in client.get("/wallets/groups/").content
