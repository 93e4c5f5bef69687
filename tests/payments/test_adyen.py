"""Adyen through its SDK with a fake HTTP client at the client's own seam: pre-authorisation
(authorisationType=PreAuth), an amount update when the session cost more than the hold, capture,
cancel, refund, each with its Idempotency-Key; webhooks verified with Adyen's HMAC helper."""

import json
from decimal import Decimal

import pytest
from Adyen.util import generate_notification_sig
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.payments.models import Payment, PaymentOperation, WebhookEvent
from apps.payments.services import (
    payment_capture_for_cdr,
    payment_preauthorize_session,
    payment_refund,
    payment_topup_start,
)
from apps.wallets.services import wallet_get_or_create
from tests.payments.conftest import ADYEN_HMAC
from tests.payments.test_stripe import finish, start

pytestmark = [pytest.mark.django_db]
D = Decimal
CHECKOUT = "https://checkout-test.adyen.com/v72"  # the Checkout API version of Adyen 16


def preauthorised(fake, charger, driver):
    fake.script.append((200, {"pspReference": "PSP1", "resultCode": "Authorised", "merchantReference": "x"}))
    tx = start(charger)
    payment = payment_preauthorize_session(
        transaction=tx,
        user=driver,
        payment_method={"type": "scheme", "storedPaymentMethodId": "8415"},
        customer="drv-1",
    )
    return tx, payment


def test_preauthorise_update_and_capture(adyen_org, charger, driver, flat):
    tx, payment = preauthorised(adyen_org, charger, driver)
    [auth] = adyen_org.requests
    assert (auth.method, auth.url) == ("POST", f"{CHECKOUT}/payments")
    assert auth.headers["Idempotency-Key"] == f"{payment.merchant_reference}:authorize"
    assert auth.headers["x-api-key"] == "AQE_test_key"
    assert auth.body["amount"] == {"value": 3000, "currency": "EUR"}
    assert auth.body["additionalData"] == {"authorisationType": "PreAuth", "manualCapture": "true"}
    assert auth.body["merchantAccount"] == "AlphaECOM" and auth.body["reference"] == payment.merchant_reference
    assert (payment.status, payment.reference, payment.amount_authorized) == ("authorized", "PSP1", D("30.00"))

    # 80 kWh = 40.00 EUR, above the 30.00 hold: raise it first, then capture everything.
    adyen_org.script += [
        (200, {"pspReference": "PSP2", "status": "received"}),
        (200, {"pspReference": "PSP3", "status": "received"}),
    ]
    payment = payment_capture_for_cdr(cdr=finish(charger, tx, kwh=80))
    update, capture = adyen_org.requests[1:]
    assert update.url == f"{CHECKOUT}/payments/PSP1/amountUpdates"
    assert update.body["amount"] == {"value": 4000, "currency": "EUR"}
    assert update.headers["Idempotency-Key"] == f"{payment.merchant_reference}:update:4000"
    assert capture.url == f"{CHECKOUT}/payments/PSP1/captures"
    assert capture.body["amount"] == {"value": 4000, "currency": "EUR"}
    assert capture.headers["Idempotency-Key"] == f"{payment.merchant_reference}:capture:4000"
    # Adyen confirms captures by webhook.
    assert payment.status == "capture_pending"


def test_release_and_refund(adyen_org, charger, driver, flat, make_user, tenant_a):
    tx, payment = preauthorised(adyen_org, charger, driver)
    adyen_org.script.append((200, {"pspReference": "PSP9", "status": "received"}))
    payment = payment_capture_for_cdr(cdr=finish(charger, tx, kwh=0))
    assert adyen_org.requests[-1].url == f"{CHECKOUT}/payments/PSP1/cancels"
    assert payment.status == "cancelled"

    Payment.objects.filter(pk=payment.pk).update(status="captured", amount_captured=D("5"))
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    adyen_org.script.append((200, {"pspReference": "PSPR", "status": "received"}))
    op = payment_refund(payment=payment, user=admin, reason="broken cable", idempotency_key="k", amount=D("1.5"))
    refund = adyen_org.requests[-1]
    assert refund.url == f"{CHECKOUT}/payments/PSP1/refunds"
    assert refund.body["amount"] == {"value": 150, "currency": "EUR"}
    assert refund.headers["Idempotency-Key"] == op.idempotency_key
    assert (op.status, op.provider_reference) == ("pending", "PSPR")  # confirmed by the REFUND webhook


# ------------------------------------------------------------------ webhooks


def item(code, psp, merchant_reference, value=500, original="", success=True, key=ADYEN_HMAC):
    body = {
        "amount": {"currency": "EUR", "value": value},
        "eventCode": code,
        "eventDate": "2026-01-15T17:00:00+01:00",
        "merchantAccountCode": "AlphaECOM",
        "merchantReference": merchant_reference,
        "originalReference": original,
        "pspReference": psp,
        "reason": "",
        "success": "true" if success else "false",
    }
    body["additionalData"] = {"hmacSignature": generate_notification_sig(body, key).decode()}
    return {"NotificationRequestItem": body}


def notify(client, *items):
    body = json.dumps({"live": "false", "notificationItems": list(items)})
    return client.post("/payments/webhooks/adyen/", body, content_type="application/json")


def test_capture_webhook_is_processed_once(adyen_org, client_a, charger, driver, flat):
    tx, payment = preauthorised(adyen_org, charger, driver)
    adyen_org.script.append((200, {"pspReference": "PSP3", "status": "received"}))
    payment_capture_for_cdr(cdr=finish(charger, tx, kwh=10))
    capture = item("CAPTURE", "PSP3", payment.merchant_reference, value=500, original="PSP1")
    response = notify(client_a, capture)
    assert response.status_code == 200 and response.content == b"[accepted]"
    assert notify(client_a, capture).status_code == 200
    with schema_context("org_alpha"):
        payment.refresh_from_db()
        assert (payment.status, payment.amount_captured) == ("captured", D("5.00"))
        [stored] = WebhookEvent.objects.all()
        assert stored.event_id == "PSP3:CAPTURE:True" and stored.result == "captured"


def test_topup_credited_on_authorisation(adyen_org, client_a, driver):
    wallet = wallet_get_or_create(user=driver)
    adyen_org.script.append((200, {"pspReference": "PSPT", "resultCode": "Authorised"}))
    payment = payment_topup_start(account=wallet, amount=D("25"), user=driver, payment_method={"type": "scheme"})
    assert "additionalData" not in adyen_org.requests[0].body  # captured at once, no PreAuth
    auth = item("AUTHORISATION", "PSPT", payment.merchant_reference, value=2500)
    assert notify(client_a, auth).status_code == 200
    assert notify(client_a, auth).status_code == 200
    with schema_context("org_alpha"):
        wallet.refresh_from_db()
        assert wallet.balance == D("25")


@pytest.mark.parametrize("tamper", ["wrong_key", "changed_amount", "no_signature", "not_json", "one_bad_item"])
def test_invalid_hmac_is_refused_and_nothing_stored(adyen_org, client_a, tamper):
    good = item("AUTHORISATION", "PSPX", "sess-x")
    if tamper == "wrong_key":
        response = notify(client_a, item("AUTHORISATION", "PSPX", "sess-x", key="00" * 32))
    elif tamper == "changed_amount":
        good["NotificationRequestItem"]["amount"]["value"] = 1
        response = notify(client_a, good)
    elif tamper == "no_signature":
        del good["NotificationRequestItem"]["additionalData"]
        response = notify(client_a, good)
    elif tamper == "not_json":
        response = client_a.post("/payments/webhooks/adyen/", "hello", content_type="text/plain")
    else:
        response = notify(client_a, good, item("CAPTURE", "PSPY", "sess-x", key="11" * 32))
    assert response.status_code == 400
    with schema_context("org_alpha"):
        assert not WebhookEvent.objects.exists()


def test_refund_outcome_comes_by_webhook_and_a_failure_gives_the_amount_back(
    adyen_org, client_a, charger, driver, flat, make_user, tenant_a
):
    tx, payment = preauthorised(adyen_org, charger, driver)
    Payment.objects.filter(pk=payment.pk).update(status="captured", amount_captured=D("5"))
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    adyen_org.script += [(200, {"pspReference": "PSPR1", "status": "received"})] * 2
    first = payment_refund(payment=payment, user=admin, reason="a", idempotency_key="r1", amount=D("1"))
    second = payment_refund(payment=payment, user=admin, reason="b", idempotency_key="r2", amount=D("2"))
    PaymentOperation.objects.filter(pk=second.pk).update(provider_reference="PSPR2")
    ok = item("REFUND", "PSPR1", first.idempotency_key, value=100, original="PSP1")
    failed = item("REFUND_FAILED", "PSPR2", second.idempotency_key, value=200, original="PSP1")
    for _ in range(2):  # redelivered: the amount comes back once
        assert notify(client_a, ok, failed).status_code == 200
    with schema_context("org_alpha"):
        payment.refresh_from_db()
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, second.status) == ("succeeded", "failed")
        assert payment.amount_refunded == D("1.00")


def test_adyen_webhook_for_another_organisation_is_refused(adyen_org, client_b):
    assert notify(client_b, item("AUTHORISATION", "PSPZ", "sess-z")).status_code == 400
    with schema_context("org_beta"):
        assert not WebhookEvent.objects.exists()
