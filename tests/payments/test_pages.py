"""Payment pages: who sees them, secrets never rendered back, refunds from the portal (recorded
with the admin), failed captures surfaced, the reconciliation and its CSV, tenant isolation."""

import csv
import io
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.payments.models import GatewayConfig, Payment, PaymentOperation
from tests.payments.conftest import STRIPE_SECRET, STRIPE_WHSEC

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def captured(stripe_org, tenant_a):
    with schema_context(tenant_a.schema_name):
        payment = Payment.objects.create(
            kind="session",
            provider="stripe",
            currency="EUR",
            merchant_reference="sess-page",
            reference="pi_1",
            status="captured",
            amount_authorized=Decimal("30"),
            amount_captured=Decimal("12.34"),
        )
        PaymentOperation.objects.create(
            payment=payment,
            kind="capture",
            status="succeeded",
            amount=Decimal("12.34"),
            currency="EUR",
            idempotency_key="sess-page:capture:1234",
            fee=Decimal("0.43"),
        )
        failed = Payment.objects.create(
            kind="session",
            provider="stripe",
            currency="EUR",
            merchant_reference="sess-failed",
            reference="pi_2",
            status="capture_failed",
            last_error="Stripe is down",
        )
    return {"payment": payment, "failed": failed}


def pages(c):
    return [
        "/payments/",
        f"/payments/{c['payment'].pk}/",
        f"/payments/{c['failed'].pk}/",
        "/payments/reconciliation/",
        "/payments/reconciliation/export.csv",
    ]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.OPERATOR_ADMIN])
def test_finance_and_admins_see_payments(tenant_a, make_user, login, captured, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    for url in pages(captured):
        assert client.get(url).status_code == 200, url
    listing = client.get("/payments/").content.decode()
    assert "1 payment needs attention" in listing
    assert "Stripe is down" in client.get(f"/payments/{captured['failed'].pk}/").content.decode()


@pytest.mark.parametrize("role", [Role.DRIVER, Role.TECHNICIAN, Role.OPERATOR_STAFF])
def test_others_do_not(tenant_a, make_user, login, captured, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    for url in [*pages(captured), "/payments/settings/"]:
        assert client.get(url).status_code == 403, url


def test_reconciliation_csv(tenant_a, make_user, login, captured):
    client = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    body = b"".join(client.get("/payments/reconciliation/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    [capture] = [r for r in rows if r["operation"] == "capture"]
    assert (capture["currency"], capture["succeeded"], capture["amount"], capture["fees"]) == (
        "EUR",
        "1",
        "12.3400",
        "0.4300",
    )


def test_refund_from_the_portal_names_the_admin(tenant_a, make_user, login, captured, stripe_org):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    client = login(tenant_a, admin)
    stripe_org.script.append((200, {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 234}))
    pk = captured["payment"].pk
    form = {"amount": "2.34", "reason": "slow charger", "key": "form-1"}
    assert client.post(f"/payments/{pk}/refund/", form).status_code == 302
    assert client.post(f"/payments/{pk}/refund/", form).status_code == 302  # double submit
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.post(f"/payments/{pk}/refund/", {**form, "key": "form-2"}).status_code == 403
    with schema_context(tenant_a.schema_name):
        [op] = PaymentOperation.objects.filter(kind="refund")
        assert (op.created_by, op.amount, op.status) == (admin, Decimal("2.34"), "succeeded")
        assert Payment.objects.get(pk=pk).amount_refunded == Decimal("2.34")
    assert len(stripe_org.requests) == 1


def test_gateway_settings_never_show_secrets(tenant_a, make_user, login, stripe_org):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    page = client.get("/payments/settings/").content.decode()
    assert STRIPE_SECRET not in page and STRIPE_WHSEC not in page and "secret_key" in page
    # Saving with the secrets left empty keeps them; a new value replaces one.
    response = client.post(
        "/payments/settings/",
        {"provider": "stripe", "preauth_amount": "45", "stripe__webhook_secret": "whsec_new"},
    )
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        config = GatewayConfig.objects.get()
        assert config.credentials == {"secret_key": STRIPE_SECRET, "webhook_secret": "whsec_new"}
        assert config.preauth_amount == Decimal("45")


def test_tenant_isolation(tenant_b, make_user, login, captured):
    client = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    for url in pages(captured)[1:3]:
        assert client.get(url).status_code == 404, url
    assert b"sess-page" not in client.get("/payments/").content
    assert b"12.34" not in client.get("/payments/reconciliation/export.csv").getvalue()
