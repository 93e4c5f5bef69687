"""Card entry in the browser (wallet top-ups), the platform's own account (credentials from the
environment, webhooks routed by reference), corrected CDRs settled on the card, and Stripe fees
fetched from the balance transaction. SDKs behind their fake HTTP clients; real signatures."""

import json
from decimal import Decimal

import pytest
import stripe
from Adyen.util import generate_notification_sig
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.billing.services import cdr_correct
from apps.payments import tasks
from apps.payments.models import GatewayConfig, Payment, PaymentCorrection
from apps.payments.services import gateway_config_save, payment_capture_for_cdr, payment_settle_correction
from apps.wallets.services import wallet_get_or_create
from tests.payments.conftest import STRIPE_SECRET, STRIPE_WHSEC
from tests.payments.test_stripe import authorized_session, finish, intent

pytestmark = [pytest.mark.django_db]
D = Decimal
PLATFORM_ENV = {
    "EVZONE_STRIPE_SECRET_KEY": "sk_test_platform",
    "EVZONE_STRIPE_PUBLISHABLE_KEY": "pk_test_platform",
    "EVZONE_STRIPE_WEBHOOK_SECRET": "whsec_platform",
    "EVZONE_ADYEN_API_KEY": "AQE_platform",
    "EVZONE_ADYEN_MERCHANT_ACCOUNT": "PlatformECOM",
    "EVZONE_ADYEN_CLIENT_KEY": "test_PLATFORMCLIENTKEY",
    "EVZONE_ADYEN_HMAC_KEY": "11" * 32,
}


@pytest.fixture
def platform(settings):
    # Read from the environment into settings by config/settings/base.py.
    for name, value in PLATFORM_ENV.items():
        setattr(settings, name, value)


def test_topup_page_stripe_payment_element(stripe_org, tenant_a, login, driver):
    gateway_config_save(provider="stripe", credentials={"publishable_key": "pk_test_alpha"})
    client = login(tenant_a, driver)
    stripe_org.script.append((200, intent("requires_payment_method", amount=2000, client_secret="pi_1_secret_abc")))
    response = client.post("/wallets/topup/", {"account": "own", "amount": "20"})
    assert response.status_code == 302, response.content
    page = client.get(response.url).content.decode()
    assert "https://js.stripe.com/v3/" in page and "pk_test_alpha" in page and "pi_1_secret_abc" in page
    assert STRIPE_SECRET not in page and STRIPE_WHSEC not in page
    [create] = stripe_org.requests
    assert create.body["capture_method"] == "automatic" and create.body["amount"] == "2000"
    assert create.body["automatic_payment_methods[enabled]"] == "true" and "confirm" not in create.body
    ref = response.url.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/payments/status/{ref}/").json()["status"] == "pending"
    # Another driver cannot see (or confirm) it.
    other = login(tenant_a, _user(tenant_a, "x@example.com"))
    assert other.get(f"/payments/status/{ref}/").status_code == 404
    # A reload in a new browser session: the start is replayed with the same idempotency key.
    client.session.flush()
    fresh = login(tenant_a, driver)
    stripe_org.script.append((200, intent("requires_payment_method", amount=2000, client_secret="pi_1_secret_abc")))
    assert "pi_1_secret_abc" in fresh.get(response.url).content.decode()
    assert stripe_org.requests[-1].headers["Idempotency-Key"] == create.headers["Idempotency-Key"]


def _user(org, email):
    from tests.factories.accounts import UserFactory

    with schema_context(org.schema_name):
        return UserFactory(role=Role.DRIVER, email=email)


def test_topup_page_adyen_dropin_session(adyen_org, tenant_a, login, driver):
    gateway_config_save(provider="adyen", credentials={"client_key": "test_ALPHACLIENT"})
    client = login(tenant_a, driver)
    adyen_org.script.append((201, {"id": "CS123", "sessionData": "Ab02b4c0", "amount": {"value": 1500}}))
    response = client.post("/wallets/topup/", {"account": "own", "amount": "15"})
    assert response.status_code == 302
    [session] = adyen_org.requests
    assert session.url == "https://checkout-test.adyen.com/v72/sessions"
    assert session.body["amount"] == {"value": 1500, "currency": "EUR"} and "additionalData" not in session.body
    ref = response.url.rstrip("/").rsplit("/", 1)[1]
    assert session.body["reference"] == ref and session.body["returnUrl"].endswith(f"/wallets/topup/{ref}/")
    page = client.get(response.url).content.decode()
    assert "test_ALPHACLIENT" in page and "CS123" in page and "Ab02b4c0" in page
    assert "checkoutshopper-test.adyen.com" in page and "AQE_test_key" not in page


def test_topup_page_without_gateway_says_so(tenant_a, login, driver):
    page = login(tenant_a, driver).get("/wallets/topup/").content.decode()
    assert 'data-testid="no-gateway"' in page and "not set up" in page


def test_platform_account_settings_and_routing(platform, in_tenant_a, tenant_a, fake_http, make_user, login, client_b):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    client = login(tenant_a, admin)
    page = client.get("/payments/settings/").content.decode()
    assert "Use the platform" in page and "sk_test_platform" not in page
    assert (
        client.post(
            "/payments/settings/", {"provider": "stripe", "use_platform": "on", "preauth_amount": "25"}
        ).status_code
        == 302
    )
    with schema_context(tenant_a.schema_name):
        config = GatewayConfig.objects.get()
        assert config.use_platform and "sk_test_platform" not in config.credentials_encrypted
        assert config.credentials == {}
    page = client.get("/payments/settings/").content.decode()
    assert "through the platform" in page and "sk_test_platform" not in page and "whsec_platform" not in page

    # The platform's secret key is used; the browser gets the platform's publishable key.
    fake = fake_http["stripe"]
    wallet = wallet_get_or_create(user=admin)
    fake.script.append((200, intent("requires_payment_method", amount=1000, client_secret="pi_1_s")))
    from apps.payments.services import payment_topup_start

    payment = payment_topup_start(account=wallet, amount=D("10"), user=admin, browser=True)
    assert fake.requests[0].headers["Authorization"] == "Bearer sk_test_platform"
    assert payment.merchant_reference.startswith(f"o{tenant_a.pk}.topup-")
    from apps.payments.gateways import client_settings

    assert client_settings(GatewayConfig.objects.get())["key"] == "pk_test_platform"

    # One platform URL for every organisation: the reference routes it (here via Beta's host).
    body = json.dumps(
        {
            "id": "evt_p1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": intent(
                    "succeeded",
                    amount=1000,
                    amount_received=1000,
                    metadata={"merchant_reference": payment.merchant_reference},
                )
            },
        }
    )
    url = "/payments/webhooks/platform/stripe/"
    wrong = stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC)  # an organisation's secret
    assert client_b.post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=wrong).status_code == 400
    sig = stripe.WebhookSignature.generate_signature_header(body, "whsec_platform")
    assert client_b.post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig).status_code == 200
    with schema_context(tenant_a.schema_name):
        wallet.refresh_from_db()
        assert wallet.balance == D("10")
    with schema_context("org_beta"):
        from apps.payments.models import WebhookEvent

        assert not WebhookEvent.objects.exists()


def test_platform_adyen_webhook_routes_by_reference(platform, in_tenant_a, tenant_a, fake_http, client_b, driver):
    gateway_config_save(provider="adyen", credentials={}, use_platform=True)
    wallet = wallet_get_or_create(user=driver)
    fake_http["adyen"].script.append((201, {"id": "CS1", "sessionData": "x"}))
    from apps.payments.services import payment_topup_start

    payment = payment_topup_start(account=wallet, amount=D("25"), user=driver, browser=True, return_url="https://x/")
    assert fake_http["adyen"].requests[0].headers["x-api-key"] == "AQE_platform"
    item = {
        "amount": {"currency": "EUR", "value": 2500},
        "eventCode": "AUTHORISATION",
        "eventDate": "2026-01-15T17:00:00+01:00",
        "merchantAccountCode": "PlatformECOM",
        "merchantReference": payment.merchant_reference,
        "originalReference": "",
        "pspReference": "PSPPLAT",
        "reason": "",
        "success": "true",
    }
    item["additionalData"] = {"hmacSignature": generate_notification_sig(item, "11" * 32).decode()}
    body = json.dumps({"live": "false", "notificationItems": [{"NotificationRequestItem": item}]})
    response = client_b.post("/payments/webhooks/platform/adyen/", body, content_type="application/json")
    assert response.content == b"[accepted]"
    with schema_context(tenant_a.schema_name):
        wallet.refresh_from_db()
        payment.refresh_from_db()
        assert wallet.balance == D("25") and payment.reference == "PSPPLAT"


def test_platform_choice_only_when_configured(in_tenant_a, tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    assert "Use the platform" not in client.get("/payments/settings/").content.decode()
    with pytest.raises(Exception, match="no account"):
        gateway_config_save(provider="stripe", credentials={}, use_platform=True)


# ------------------------------------------------------------------ corrected CDRs


def captured_session(fake, charger, driver, kwh):
    tx, payment = authorized_session(fake, charger, driver)
    fake.script.append((200, intent("succeeded", amount_received=kwh * 50)))
    cdr = finish(charger, tx, kwh=kwh)
    return payment_capture_for_cdr(cdr=cdr), cdr


def test_lower_correction_is_refunded_once(stripe_org, charger, driver, flat, monkeypatch):
    monkeypatch.setattr(tasks.fetch_fee, "apply_async", lambda **kw: None)
    payment, cdr = captured_session(stripe_org, charger, driver, kwh=10)  # 5.00
    from apps.tariffs.services import tariff_import_ocpi

    cheaper = tariff_import_ocpi(
        data={
            "country_code": "DE",
            "party_id": "ALP",
            "id": "CHEAP",
            "currency": "EUR",
            "last_updated": "2026-01-01T00:00:00Z",
            "elements": [{"price_components": [{"type": "ENERGY", "price": "0.30", "vat": 0, "step_size": 1}]}],
        }
    )
    corrected = cdr_correct(cdr=cdr, reason="wrong tariff", tariff=cheaper)  # 3.00
    stripe_org.script.append((200, {"id": "re_c", "object": "refund", "status": "succeeded", "amount": 200}))
    correction = payment_settle_correction(cdr=corrected)
    again = payment_settle_correction(cdr=corrected)
    assert again.pk == correction.pk
    refund = stripe_org.requests[-1]
    assert refund.url == "https://api.stripe.com/v1/refunds" and refund.body["amount"] == "200"
    assert refund.headers["Idempotency-Key"] == f"{payment.merchant_reference}:refund:cdr-{corrected.cdr_id}"
    assert len([r for r in stripe_org.requests if r.url.endswith("/refunds")]) == 1
    payment.refresh_from_db()
    assert (correction.outcome, correction.refund_amount, payment.amount_refunded) == ("refund", D("2.00"), D("2.00"))
    assert payment.amount_due == D("3.00") and correction.refund.status == "succeeded"


def test_higher_correction_after_capture_is_a_receivable(
    stripe_org, charger, driver, flat, monkeypatch, tenant_a, make_user, login
):
    monkeypatch.setattr(tasks.fetch_fee, "apply_async", lambda **kw: None)
    payment, cdr = captured_session(stripe_org, charger, driver, kwh=10)
    from apps.tariffs.services import tariff_import_ocpi

    dearer = tariff_import_ocpi(
        data={
            "country_code": "DE",
            "party_id": "ALP",
            "id": "DEAR",
            "currency": "EUR",
            "last_updated": "2026-01-01T00:00:00Z",
            "elements": [{"price_components": [{"type": "ENERGY", "price": "0.80", "vat": 0, "step_size": 1}]}],
        }
    )
    n = len(stripe_org.requests)
    correction = payment_settle_correction(cdr=cdr_correct(cdr=cdr, reason="meter fix", tariff=dearer))  # 8.00
    assert len(stripe_org.requests) == n  # the card is not charged again
    payment.refresh_from_db()
    assert (correction.outcome, correction.receivable_amount) == ("receivable", D("3.00"))
    assert payment.amount_outstanding == D("3.00") and "owed" in payment.last_error
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert "1 payment needs attention" in finance.get("/payments/").content.decode()


def test_correction_before_capture_changes_what_is_captured(stripe_org, charger, driver, flat, monkeypatch):
    monkeypatch.setattr(tasks.fetch_fee, "apply_async", lambda **kw: None)
    tx, payment = authorized_session(stripe_org, charger, driver)
    stripe_org.script.append((500, {"error": {"type": "api_error", "message": "down"}}))
    monkeypatch.setattr(tasks.retry_capture, "apply_async", lambda **kw: None)
    cdr = finish(charger, tx, kwh=10)
    payment = payment_capture_for_cdr(cdr=cdr)
    assert payment.status == "capture_failed"
    stripe_org.script.append((200, intent("succeeded", amount_received=200)))
    from apps.tariffs.services import tariff_import_ocpi

    cheaper = tariff_import_ocpi(
        data={
            "country_code": "DE",
            "party_id": "ALP",
            "id": "CHEAP2",
            "currency": "EUR",
            "last_updated": "2026-01-01T00:00:00Z",
            "elements": [{"price_components": [{"type": "ENERGY", "price": "0.20", "vat": 0, "step_size": 1}]}],
        }
    )
    correction = payment_settle_correction(cdr=cdr_correct(cdr=cdr, reason="x", tariff=cheaper))
    assert correction.outcome == "before_capture"
    assert stripe_org.requests[-1].body == {"amount_to_capture": "200"}
    payment.refresh_from_db()
    assert (payment.status, payment.amount_captured) == ("captured", D("2.00"))
    assert PaymentCorrection.objects.count() == 1


# ------------------------------------------------------------------ fees


def test_stripe_fee_is_fetched_from_the_balance_transaction(stripe_org, charger, driver, flat, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.fetch_fee, "apply_async", lambda **kw: queued.append(kw))
    payment, _ = captured_session(stripe_org, charger, driver, kwh=10)
    # The capture's fee is unknown at capture time: a task asks for it (after commit in real life).
    expanded = intent(
        "succeeded",
        latest_charge={
            "id": "ch_1",
            "object": "charge",
            "balance_transaction": {"id": "txn_1", "object": "balance_transaction", "fee": 45, "currency": "eur"},
        },
    )
    stripe_org.script.append((200, expanded))
    tasks.fetch_fee(payment.pk)
    fetch = stripe_org.requests[-1]
    assert fetch.method == "GET" and fetch.url.startswith("https://api.stripe.com/v1/payment_intents/pi_1?")
    assert fetch.url.endswith("?expand[0]=latest_charge.balance_transaction")
    payment.refresh_from_db()
    assert payment.fee == D("0.45")
    assert payment.operations.get(kind="capture").fee == D("0.45")
    assert Payment.objects.filter(fee=D("0.45")).count() == 1
