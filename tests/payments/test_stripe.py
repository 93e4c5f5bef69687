"""Stripe through its SDK with a fake HTTP client: the requests it would send (URL, method,
amount, currency, capture_method, Idempotency-Key), the session flow, failed-capture retries,
refunds, and webhooks signed with the SDK's own helper."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
import stripe
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.billing.services import cdr_create_for_transaction
from apps.charging.services import transaction_start, transaction_stop
from apps.payments import tasks
from apps.payments.models import GatewayConfig, Payment, PaymentOperation, WebhookEvent
from apps.payments.services import (
    payment_capture_for_cdr,
    payment_preauthorize_session,
    payment_refund,
    payment_topup_start,
)
from apps.wallets.models import LedgerAccount
from apps.wallets.services import wallet_get_or_create
from tests.payments.conftest import STRIPE_SECRET, STRIPE_WHSEC

pytestmark = [pytest.mark.django_db]
START = dt.datetime(2026, 1, 15, 16, 0, tzinfo=dt.UTC)
D = Decimal


def intent(status, amount=3000, **extra):
    return {"id": "pi_1", "object": "payment_intent", "status": status, "amount": amount, "currency": "eur", **extra}


def start(cp):
    tx, _ = transaction_start(charge_point_id=cp.pk, connector_id=1, id_tag="CARD-DORA", meter_start=0, timestamp=START)
    return tx


def finish(cp, tx, kwh):
    transaction_stop(
        charge_point_id=cp.pk,
        transaction_id=tx.transaction_id,
        meter_stop=kwh * 1000,
        timestamp=START + dt.timedelta(hours=1),
    )
    tx.refresh_from_db()
    return cdr_create_for_transaction(transaction=tx, issue_receipt=False)


def authorized_session(fake, charger, driver):
    fake.script.append((200, intent("requires_capture", client_secret="pi_1_secret")))
    tx = start(charger)
    return tx, payment_preauthorize_session(
        transaction=tx, user=driver, payment_method="pm_card_visa", customer="cus_1"
    )


def test_credentials_are_encrypted_at_rest(stripe_org):
    config = GatewayConfig.objects.get()
    assert STRIPE_SECRET not in config.credentials_encrypted and STRIPE_WHSEC not in config.credentials_encrypted
    assert config.credentials["secret_key"] == STRIPE_SECRET


def test_preauthorise_then_capture_the_cdr_total(stripe_org, charger, driver, flat):
    tx, payment = authorized_session(stripe_org, charger, driver)
    [auth] = stripe_org.requests
    assert (auth.method, auth.url) == ("POST", "https://api.stripe.com/v1/payment_intents")
    assert auth.headers["Idempotency-Key"] == f"{payment.merchant_reference}:authorize"
    assert auth.headers["Authorization"] == f"Bearer {STRIPE_SECRET}"
    assert {k: auth.body[k] for k in ("amount", "currency", "capture_method", "confirm", "off_session")} == {
        "amount": "3000",
        "currency": "eur",
        "capture_method": "manual",
        "confirm": "true",
        "off_session": "true",
    }
    assert auth.body["metadata[merchant_reference]"] == payment.merchant_reference
    assert (payment.status, payment.amount_authorized, payment.reference) == ("authorized", D("30.00"), "pi_1")
    # A second start of the same session does not authorise again.
    assert payment_preauthorize_session(transaction=tx, user=driver).pk == payment.pk
    assert len(stripe_org.requests) == 1

    stripe_org.script.append((200, intent("succeeded", amount_received=500)))
    payment = payment_capture_for_cdr(cdr=finish(charger, tx, kwh=10))  # 5.00 EUR
    capture = stripe_org.requests[-1]
    assert (capture.method, capture.url) == ("POST", "https://api.stripe.com/v1/payment_intents/pi_1/capture")
    assert capture.body == {"amount_to_capture": "500"}
    assert capture.headers["Idempotency-Key"] == f"{payment.merchant_reference}:capture:500"
    assert (payment.status, payment.amount_captured) == ("captured", D("5.00"))


def test_nothing_delivered_releases_the_hold(stripe_org, charger, driver, flat):
    tx, payment = authorized_session(stripe_org, charger, driver)
    stripe_org.script.append((200, intent("canceled")))
    payment = payment_capture_for_cdr(cdr=finish(charger, tx, kwh=0))
    cancel = stripe_org.requests[-1]
    assert cancel.url == "https://api.stripe.com/v1/payment_intents/pi_1/cancel"
    assert cancel.headers["Idempotency-Key"] == f"{payment.merchant_reference}:cancel"
    assert payment.status == "cancelled"


def test_a_failed_capture_is_retried_with_the_same_key(
    stripe_org, charger, driver, flat, django_capture_on_commit_callbacks, monkeypatch
):
    tx, payment = authorized_session(stripe_org, charger, driver)
    stripe_org.script.append((500, {"error": {"type": "api_error", "message": "Stripe is down"}}))
    scheduled = []
    monkeypatch.setattr(tasks.retry_capture, "apply_async", lambda **kw: scheduled.append(kw))
    # Ending the session is all it takes: the CDR is created and settled after commit.
    with django_capture_on_commit_callbacks(execute=True):
        finish(charger, tx, kwh=10)
    payment.refresh_from_db()
    assert payment.status == "capture_failed" and "Stripe is down" in payment.last_error
    assert scheduled == [{"args": [payment.pk], "countdown": 60}]

    stripe_org.script.append((200, intent("succeeded", amount_received=500)))
    tasks.retry_capture(payment.pk)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_captured, payment.capture_attempts) == ("captured", D("5.00"), 2)
    keys = [r.headers["Idempotency-Key"] for r in stripe_org.requests[1:]]
    assert keys == [f"{payment.merchant_reference}:capture:500"] * 2


def test_refunds_partial_then_the_rest_never_more(stripe_org, charger, driver, flat, make_user, tenant_a):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    tx, payment = authorized_session(stripe_org, charger, driver)
    stripe_org.script.append((200, intent("succeeded", amount_received=500)))
    payment = payment_capture_for_cdr(cdr=finish(charger, tx, kwh=10))

    stripe_org.script.append((200, {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 200}))
    op = payment_refund(payment=payment, user=admin, reason="slow charging", idempotency_key="f1", amount=D("2"))
    again = payment_refund(payment=payment, user=admin, reason="slow charging", idempotency_key="f1", amount=D("2"))
    assert op.pk == again.pk and op.status == "succeeded" and op.provider_reference == "re_1"
    refund = stripe_org.requests[-1]
    assert refund.url == "https://api.stripe.com/v1/refunds"
    assert refund.body["payment_intent"] == "pi_1" and refund.body["amount"] == "200"
    assert refund.headers["Idempotency-Key"] == op.idempotency_key

    with pytest.raises(Exception, match="At most 3.00"):
        payment_refund(payment=payment, user=admin, reason="again", idempotency_key="f2", amount=D("4"))
    with pytest.raises(Exception, match="Only administrators"):
        payment_refund(payment=payment, user=driver, reason="me", idempotency_key="f3")
    stripe_org.script.append((402, {"error": {"type": "invalid_request_error", "message": "charge disputed"}}))
    failed = payment_refund(payment=payment, user=admin, reason="rest", idempotency_key="f4")
    payment.refresh_from_db()
    assert failed.status == "failed" and payment.amount_refunded == D("2.00")  # reservation given back
    stripe_org.script.append((200, {"id": "re_2", "object": "refund", "status": "succeeded", "amount": 300}))
    payment_refund(payment=payment, user=admin, reason="rest", idempotency_key="f5")
    payment.refresh_from_db()
    assert payment.amount_refunded == D("5.00") and payment.refundable == 0


# ------------------------------------------------------------------ webhooks


def signed(event: dict, secret=STRIPE_WHSEC) -> tuple[str, str]:
    body = json.dumps(event)
    return body, stripe.WebhookSignature.generate_signature_header(body, secret)


def post(client, body, signature):
    return client.post(
        "/payments/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def event(event_id, type_, obj):
    return {"id": event_id, "object": "event", "type": type_, "data": {"object": obj}}


def test_topup_is_credited_once_by_a_signed_webhook(stripe_org, client_a, driver):
    wallet = wallet_get_or_create(user=driver)
    stripe_org.script.append((200, intent("requires_payment_method", amount=2000, client_secret="pi_1_secret")))
    payment = payment_topup_start(account=wallet, amount=D("20"), user=driver)
    assert payment.client_secret == "pi_1_secret"
    assert stripe_org.requests[0].body["capture_method"] == "automatic"
    succeeded = event(
        "evt_1",
        "payment_intent.succeeded",
        intent(
            "succeeded", amount=2000, amount_received=2000, metadata={"merchant_reference": payment.merchant_reference}
        ),
    )
    body, sig = signed(succeeded)
    assert post(client_a, body, sig).status_code == 200
    assert post(client_a, body, sig).status_code == 200  # redelivered
    with schema_context("org_alpha"):
        wallet.refresh_from_db()
        assert wallet.balance == D("20")
        assert WebhookEvent.objects.filter(event_id="evt_1").count() == 1
        assert Payment.objects.get(pk=payment.pk).status == "captured"


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "garbage",
        "t=1,v1=deadbeef",
        stripe.WebhookSignature.generate_signature_header("{}", STRIPE_WHSEC),  # signs another body
        "wrong-secret",
        "stale",
        "future",
    ],
)
def test_anything_but_a_valid_signature_is_refused(stripe_org, client_a, driver, signature):
    payload = event("evt_bad", "payment_intent.succeeded", intent("succeeded"))
    body = json.dumps(payload)
    if signature == "wrong-secret":
        signature = stripe.WebhookSignature.generate_signature_header(body, "whsec_someone_else")
    elif signature == "stale":  # a replay from long ago
        signature = stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC, timestamp=1_000_000)
    elif signature == "future":  # made for a later time: the tolerance applies both ways
        later = int(time.time()) + 3600
        signature = stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC, timestamp=later)
    kwargs = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    response = client_a.post("/payments/webhooks/stripe/", body, content_type="application/json", **kwargs)
    assert response.status_code == 400
    with schema_context("org_alpha"):
        assert not WebhookEvent.objects.exists()


def test_a_signature_a_little_ahead_of_our_clock_is_accepted(stripe_org, client_a, driver):
    payload = event("evt_skew", "payment_intent.succeeded", intent("succeeded"))
    body = json.dumps(payload)
    ahead = stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC, timestamp=int(time.time()) + 60)
    assert post(client_a, body, ahead).status_code == 200


def test_out_of_order_events_only_move_forward(stripe_org, client_a, charger, driver, flat):
    tx, payment = authorized_session(stripe_org, charger, driver)
    ref = {"metadata": {"merchant_reference": payment.merchant_reference}}
    captured = event("evt_cap", "payment_intent.succeeded", intent("succeeded", amount_received=500, **ref))
    late_auth = event("evt_auth", "payment_intent.amount_capturable_updated", intent("requires_capture", **ref))
    late_cancel = event("evt_cancel", "payment_intent.canceled", intent("canceled", **ref))
    for e in (captured, late_auth, late_cancel):
        assert post(client_a, *signed(e)).status_code == 200
    with schema_context("org_alpha"):
        payment.refresh_from_db()
        assert (payment.status, payment.amount_captured) == ("captured", D("5.00"))
        results = dict(WebhookEvent.objects.values_list("event_id", "result"))
        assert results["evt_cap"] == "captured" and results["evt_cancel"].startswith("ignored")


def test_webhooks_are_per_organisation(stripe_org, client_b):
    """Alpha's correctly signed event means nothing on Beta's host (Beta has no Stripe secret)."""
    body, sig = signed(event("evt_x", "payment_intent.succeeded", intent("succeeded")))
    assert post(client_b, body, sig).status_code == 400
    with schema_context("org_beta"):
        assert not WebhookEvent.objects.exists()


def test_accounting_accounts_untouched_by_card_sessions(stripe_org, charger, driver, flat):
    tx, payment = authorized_session(stripe_org, charger, driver)
    assert not LedgerAccount.objects.exists()
    assert PaymentOperation.objects.filter(payment=payment).count() == 1


def test_refund_failure_webhook_gives_the_amount_back(stripe_org, client_a, charger, driver, flat, make_user, tenant_a):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    tx, payment = authorized_session(stripe_org, charger, driver)
    stripe_org.script.append((200, intent("succeeded", amount_received=500)))
    payment = payment_capture_for_cdr(cdr=finish(charger, tx, kwh=10))
    stripe_org.script.append((200, {"id": "re_9", "object": "refund", "status": "pending", "amount": 500}))
    op = payment_refund(payment=payment, user=admin, reason="fault", idempotency_key="x")
    assert op.status == "pending"
    refund = {
        "id": "re_9",
        "object": "refund",
        "status": "failed",
        "amount": 500,
        "currency": "eur",
        "payment_intent": "pi_1",
        "metadata": {"merchant_reference": op.idempotency_key},
    }
    assert post(client_a, *signed(event("evt_rf", "refund.failed", refund))).status_code == 200
    with schema_context("org_alpha"):
        op.refresh_from_db()
        payment.refresh_from_db()
        assert op.status == "failed" and payment.amount_refunded == 0 and payment.refundable == D("5.00")


def test_sweep_requeues_stale_failed_captures(stripe_org, monkeypatch):
    stale = Payment.objects.create(
        kind="session", provider="stripe", currency="EUR", merchant_reference="sess-stale", status="capture_failed"
    )
    Payment.objects.create(
        kind="session",
        provider="stripe",
        currency="EUR",
        merchant_reference="sess-spent",
        status="capture_failed",
        capture_attempts=6,
    )
    Payment.objects.filter(merchant_reference__startswith="sess-s").update(
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    queued = []
    monkeypatch.setattr(tasks.retry_capture, "apply_async", lambda args: queued.append(args))
    assert tasks.sweep_failed_captures_in_schema() == 1 and queued == [[stale.pk]]


def test_topup_api_for_apps(stripe_org, tenant_a, make_user, login, driver):
    from apps.wallets.groups import group_member_accept, group_member_invite, group_wallet_create

    wallet = wallet_get_or_create(user=driver)
    owner = make_user(tenant_a, role=Role.DRIVER, email="owner@example.com")
    group = group_wallet_create(owner=owner, name="Fleet")
    _, secret = group_member_invite(group=group, email=driver.email, invited_by=owner)
    group_member_accept(secret=secret, user=driver)
    other = wallet_get_or_create(user=owner)
    client = login(tenant_a, driver)
    stripe_org.script.append((200, intent("requires_payment_method", amount=1500, client_secret="pi_1_secret")))
    response = client.post(f"/api/v1/wallets/{wallet.pk}/topup/", {"amount": "15"}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["client_secret"] == "pi_1_secret" and response.json()["amount"] == "15.00"
    assert stripe_org.requests[-1].body["amount"] == "1500"
    ids = {w["id"] for w in client.get("/api/v1/wallets/").json()["results"]}
    assert ids == {wallet.pk, group.account.pk}  # own wallet and the group's, not the owner's
    assert client.post(f"/api/v1/wallets/{other.pk}/topup/", {"amount": "5"}).status_code == 404
    # A member without the right to top up the group wallet.
    assert client.post(f"/api/v1/wallets/{group.account.pk}/topup/", {"amount": "5"}).status_code == 403
    assert len(stripe_org.requests) == 1
