"""Cards on file (issue #7): a driver saves a card (Stripe SetupIntent off_session / Adyen
zero-value authorisation with storePaymentMethod, confirmed by webhook), sessions are
pre-authorised off-session on it when they start and captured at the CDR; a decline stops the
session and leaves the cost owed; the authorisation check; removing a card detaches it at the
gateway. SDKs behind their fake HTTP clients, real webhook signatures."""

from decimal import Decimal

import pytest
from Adyen.util import generate_notification_sig
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.charging.selectors import id_token_info_for_charging
from apps.payments import services, tasks
from apps.payments.models import GatewayCustomer, Payment, SavedCard
from apps.payments.selectors import payment_list
from apps.wallets.models import WalletSettings
from apps.wallets.selectors import wallet_authorization_for_id_tag, wallet_should_stop
from apps.wallets.services import wallet_get_or_create
from tests.payments.conftest import ADYEN_HMAC
from tests.payments.test_adyen import CHECKOUT, notify
from tests.payments.test_stripe import event, finish, intent, post, signed, start

pytestmark = [pytest.mark.django_db]
D = Decimal
STRIPE_API = "https://api.stripe.com/v1"


def saved_card(user, provider="stripe", method="pm_1", customer="cus_1", **extra) -> SavedCard:
    owner, _ = GatewayCustomer.objects.get_or_create(
        user=user, provider=provider, account="own", defaults={"reference": customer}
    )
    fields = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099, "is_default": True, **extra}
    return SavedCard.objects.create(
        user=user,
        customer=owner,
        provider=provider,
        status=SavedCard.Status.ACTIVE,
        setup_reference=f"card-{method}",
        payment_method_reference=method,
        **fields,
    )


def setup_intent(status="requires_payment_method", **extra):
    return {"id": "seti_1", "object": "setup_intent", "status": status, "client_secret": "seti_1_secret_x", **extra}


# ------------------------------------------------------------------ saving a card: Stripe


def test_stripe_card_saved_in_the_browser(stripe_org, tenant_a, login, driver):
    services.gateway_config_save(provider="stripe", credentials={"publishable_key": "pk_test_alpha"})
    client = login(tenant_a, driver)
    assert "No saved cards" in client.get("/payments/cards/").content.decode()
    stripe_org.script += [(200, {"id": "cus_1", "object": "customer"}), (200, setup_intent())]
    response = client.post("/payments/cards/add/")
    assert response.status_code == 302, response.content
    customer, setup = stripe_org.requests
    reference = f"o{tenant_a.pk}.driver-{driver.pk}"
    assert (customer.method, customer.url) == ("POST", f"{STRIPE_API}/customers")
    assert customer.headers["Idempotency-Key"] == f"{reference}:customer:own"
    assert customer.body["metadata[evzone_driver]"] == reference and customer.body["email"] == driver.email
    assert (setup.method, setup.url) == ("POST", f"{STRIPE_API}/setup_intents")
    assert setup.body["customer"] == "cus_1" and setup.body["usage"] == "off_session"
    assert setup.body["payment_method_types[0]"] == "card"
    with schema_context(tenant_a.schema_name):
        card = SavedCard.objects.get()
    assert setup.body["metadata[merchant_reference]"] == card.setup_reference
    assert setup.headers["Idempotency-Key"] == f"{card.setup_reference}:setup"
    assert card.setup_reference.startswith(f"o{tenant_a.pk}.card-") and card.status == "pending"
    page = client.get(response.url).content.decode()
    assert "seti_1_secret_x" in page and '"mode": "setup"' in page and "pk_test_alpha" in page
    # The browser says it is done: the SetupIntent is asked for, with its card.
    method = {"id": "pm_1", "object": "payment_method", "type": "card"}
    method["card"] = {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2031}
    stripe_org.script.append((200, setup_intent("succeeded", payment_method=method)))
    state = client.post(f"/payments/cards/setup/{card.setup_reference}/status/").json()
    assert state["done"] is True
    assert stripe_org.requests[-1].url == f"{STRIPE_API}/setup_intents/seti_1?expand[0]=payment_method"
    with schema_context(tenant_a.schema_name):
        card.refresh_from_db()
    assert (card.status, card.payment_method_reference, card.is_default) == ("active", "pm_1", True)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 8, 2031)
    listing = client.get("/payments/cards/").content.decode()
    assert "4242" in listing and "are paid with" in listing  # no wallet: the card pays
    # Another driver can neither see nor confirm it.
    other = login(tenant_a, _user(tenant_a, "eve@example.com"))
    assert other.get(f"/payments/cards/setup/{card.setup_reference}/status/").status_code == 404


def _user(org, email):
    from tests.factories.accounts import UserFactory

    with schema_context(org.schema_name):
        return UserFactory(role=Role.DRIVER, email=email)


def test_stripe_webhook_saves_the_card_once(stripe_org, client_a, driver, django_capture_on_commit_callbacks):
    stripe_org.script += [(200, {"id": "cus_1", "object": "customer"}), (200, setup_intent())]
    card = services.card_setup_start(user=driver, return_url="https://alpha.example/back/")
    payload = event(
        "evt_seti",
        "setup_intent.succeeded",
        setup_intent(
            "succeeded", payment_method="pm_9", customer="cus_1", metadata={"merchant_reference": card.setup_reference}
        ),
    )
    details = {"id": "pm_9", "object": "payment_method", "type": "card"}
    details["card"] = {"brand": "mastercard", "last4": "4444", "exp_month": 1, "exp_year": 2030}
    stripe_org.script.append((200, details))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client_a, *signed(payload)).status_code == 200
    assert post(client_a, *signed(payload)).status_code == 200  # redelivered: nothing more
    card.refresh_from_db()
    assert (card.status, card.payment_method_reference, card.last4, card.brand) == (
        "active",
        "pm_9",
        "4444",
        "mastercard",
    )
    assert stripe_org.requests[-1].url == f"{STRIPE_API}/payment_methods/pm_9"  # brand and last 4 fetched once
    assert len(stripe_org.requests) == 3


# ------------------------------------------------------------------ saving a card: Adyen


def adyen_item(code, psp, merchant_reference, *, value=0, original="", success=True, extra=None, method="mc"):
    body = {
        "amount": {"currency": "EUR", "value": value},
        "eventCode": code,
        "eventDate": "2026-01-15T17:00:00+01:00",
        "merchantAccountCode": "AlphaECOM",
        "merchantReference": merchant_reference,
        "originalReference": original,
        "paymentMethod": method,
        "pspReference": psp,
        "reason": "",
        "success": "true" if success else "false",
    }
    signature = generate_notification_sig(body, ADYEN_HMAC).decode()
    body["additionalData"] = {**(extra or {}), "hmacSignature": signature}
    return {"NotificationRequestItem": body}


def test_adyen_card_saved_by_zero_value_authorisation(adyen_org, client_a, driver):
    adyen_org.script.append((201, {"id": "CS1", "sessionData": "Ab02"}))
    card = services.card_setup_start(user=driver, return_url="https://alpha.example/back/")
    [session] = adyen_org.requests
    assert session.url == f"{CHECKOUT}/sessions"
    assert session.headers["Idempotency-Key"] == f"{card.setup_reference}:setup"
    body = session.body
    assert body["amount"] == {"value": 0, "currency": "EUR"} and body["reference"] == card.setup_reference
    assert body["storePaymentMethod"] is True and body["shopperReference"] == card.customer.reference
    assert body["recurringProcessingModel"] == "UnscheduledCardOnFile" and body["shopperInteraction"] == "Ecommerce"
    assert card.customer.reference.endswith(f".driver-{driver.pk}")
    assert card.client_action == {"session": {"id": "CS1", "sessionData": "Ab02"}}
    extra = {
        "tokenization.storedPaymentMethodId": "M5N7TQ4TG5PFWR50",
        "tokenization.shopperReference": card.customer.reference,
        "cardSummary": "1111",
        "expiryDate": "3/2030",
    }
    response = notify(client_a, adyen_item("AUTHORISATION", "PSPZERO", card.setup_reference, extra=extra))
    assert response.content == b"[accepted]"
    card.refresh_from_db()
    assert (card.status, card.payment_method_reference, card.last4, card.exp_month, card.exp_year) == (
        "active",
        "M5N7TQ4TG5PFWR50",
        "1111",
        3,
        2030,
    )
    assert card.brand == "mc" and card.is_default and card.setup_gateway_reference == "PSPZERO"
    assert not Payment.objects.exists()  # a zero-value authorisation is no payment of ours


def test_adyen_card_saved_by_recurring_contract(adyen_org, client_a, driver):
    adyen_org.script.append((201, {"id": "CS2", "sessionData": "Cd04"}))
    card = services.card_setup_start(user=driver, return_url="https://alpha.example/back/")
    # Authorisation without tokenisation data: the stored card comes with RECURRING_CONTRACT.
    notify(client_a, adyen_item("AUTHORISATION", "PSPZ2", card.setup_reference, extra={"cardSummary": "0004"}))
    card.refresh_from_db()
    assert card.status == "pending" and card.setup_gateway_reference == "PSPZ2"
    contract = adyen_item(
        "RECURRING_CONTRACT", "8315", "", original="PSPZ2", extra={"shopperReference": card.customer.reference}
    )
    notify(client_a, contract)
    card.refresh_from_db()
    assert (card.status, card.payment_method_reference) == ("active", "8315")


# ------------------------------------------------------------------ sessions paid by card


def test_session_preauthorised_off_session_then_captured(stripe_org, charger, driver, flat):
    card = saved_card(driver)
    tx = start(charger)
    stripe_org.script.append((200, intent("requires_capture")))
    tasks.preauthorize_transaction(tx.pk)  # what the start hook queues
    [auth] = stripe_org.requests
    payment = Payment.objects.get(transaction=tx)
    assert (auth.method, auth.url) == ("POST", f"{STRIPE_API}/payment_intents")
    assert auth.headers["Idempotency-Key"] == f"{payment.merchant_reference}:authorize"
    assert {k: auth.body[k] for k in ("customer", "payment_method", "off_session", "confirm", "capture_method")} == {
        "customer": "cus_1",
        "payment_method": "pm_1",
        "off_session": "true",
        "confirm": "true",
        "capture_method": "manual",
    }
    assert auth.body["amount"] == "3000"
    assert (payment.status, payment.saved_card, payment.user, payment.amount_authorized) == (
        "authorized",
        card,
        driver,
        D("30.00"),
    )
    # The hook again (a Celery retry) and the CDR's safety net: still one hold.
    tasks.preauthorize_transaction(tx.pk)
    assert len(stripe_org.requests) == 1
    stripe_org.script.append((200, intent("succeeded", amount_received=500)))
    cdr = finish(charger, tx, kwh=10)  # 5.00 EUR
    tasks.settle_cdr(cdr.pk)
    capture = stripe_org.requests[-1]
    assert capture.url == f"{STRIPE_API}/payment_intents/pi_1/capture" and capture.body == {"amount_to_capture": "500"}
    assert len(stripe_org.requests) == 2
    payment.refresh_from_db()
    assert (payment.status, payment.amount_captured, payment.cdr_id) == ("captured", D("5.00"), cdr.pk)


def test_no_hook_the_cdr_still_holds_and_captures(stripe_org, charger, driver, flat):
    saved_card(driver)
    tx = start(charger)
    stripe_org.script += [(200, intent("requires_capture")), (200, intent("succeeded", amount_received=1000))]
    tasks.settle_cdr(finish(charger, tx, kwh=20).pk)
    auth, capture = stripe_org.requests
    assert auth.body["off_session"] == "true" and capture.body == {"amount_to_capture": "1000"}
    assert Payment.objects.get(transaction=tx).status == "captured"


def test_adyen_session_on_the_stored_card(adyen_org, charger, driver, flat):
    card = saved_card(driver, provider="adyen", method="8415", customer="o1.driver-7")
    tx = start(charger)
    adyen_org.script.append((200, {"pspReference": "PSP1", "resultCode": "Authorised"}))
    payment = services.payment_on_transaction_started(transaction_id=tx.pk)
    [auth] = adyen_org.requests
    assert auth.url == f"{CHECKOUT}/payments"
    assert auth.headers["Idempotency-Key"] == f"{payment.merchant_reference}:authorize"
    assert auth.body["paymentMethod"] == {"type": "scheme", "storedPaymentMethodId": "8415"}
    assert auth.body["shopperReference"] == "o1.driver-7" and auth.body["shopperInteraction"] == "ContAuth"
    assert auth.body["recurringProcessingModel"] == "UnscheduledCardOnFile"
    assert auth.body["additionalData"]["authorisationType"] == "PreAuth"
    assert (payment.status, payment.reference, payment.saved_card_id) == ("authorized", "PSP1", card.pk)
    # Nothing delivered: the hold is released.
    adyen_org.script.append((200, {"pspReference": "PSPC", "status": "received"}))
    tasks.settle_cdr(finish(charger, tx, kwh=0).pk)
    assert adyen_org.requests[-1].url == f"{CHECKOUT}/payments/PSP1/cancels"


def test_adyen_asking_for_the_cardholder_is_a_decline(adyen_org, charger, driver, flat, monkeypatch):
    saved_card(driver, provider="adyen", method="8415", customer="o1.driver-7")
    monkeypatch.setattr(tasks.stop_unpaid_session, "delay", lambda pk: None)
    adyen_org.script.append((200, {"pspReference": "PSP1", "resultCode": "RedirectShopper", "action": {}}))
    payment = services.payment_on_transaction_started(transaction_id=start(charger).pk)
    assert payment.status == "failed" and "not possible off-session" in payment.last_error


def test_declined_hold_stops_the_session_and_the_cost_is_owed(
    stripe_org, charger, driver, flat, monkeypatch, django_capture_on_commit_callbacks
):
    saved_card(driver)
    tx = start(charger)
    declined = {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        }
    }
    stripe_org.script.append((402, declined))
    stops = []

    class Result:
        status, response = "ok", {"status": "Accepted"}

    def remote_stop(*, transaction, source="", **kw):
        stops.append((transaction.pk, source))
        return Result()

    monkeypatch.setattr("apps.payments.services.card_on_file.remote_stop", remote_stop)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.preauthorize_transaction(tx.pk)
    payment = Payment.objects.get(transaction=tx)
    assert payment.status == "failed" and "insufficient funds" in payment.last_error
    assert stops == [(tx.pk, "payment")]
    assert "Session stopped remotely: ok" in payment.last_error
    assert payment in payment_list(status="attention")
    tasks.settle_cdr(finish(charger, tx, kwh=10).pk)  # no capture call: there is no hold
    assert len(stripe_org.requests) == 1
    payment.refresh_from_db()
    assert payment.amount_outstanding == D("5.00") and payment.amount_due == D("5.00")


# ------------------------------------------------------------------ which pays, and the check at Authorize


def test_authorisation_rule(stripe_org, charger, driver):
    settings = WalletSettings.objects.create(require_payment_means=False)
    assert wallet_authorization_for_id_tag(id_tag="CARD-DORA").reason == "no wallet"  # free / invoiced
    assert id_token_info_for_charging(id_tag="CARD-DORA", charge_point_id=charger.pk).status == "Accepted"
    WalletSettings.objects.filter(pk=settings.pk).update(require_payment_means=True)
    verdict = wallet_authorization_for_id_tag(id_tag="CARD-DORA")
    assert (verdict.allowed, verdict.reason) == (False, "no payment means")
    info = id_token_info_for_charging(id_tag="CARD-DORA", charge_point_id=charger.pk)
    assert (info.status, info.reason) == ("Blocked", "wallet")
    card = saved_card(driver)
    assert wallet_authorization_for_id_tag(id_tag="CARD-DORA").reason == "card"
    assert id_token_info_for_charging(id_tag="CARD-DORA", charge_point_id=charger.pk).status == "Accepted"
    # An expired card does not count.
    SavedCard.objects.filter(pk=card.pk).update(exp_year=2020)
    assert wallet_authorization_for_id_tag(id_tag="CARD-DORA").reason == "no payment means"
    SavedCard.objects.filter(pk=card.pk).update(exp_year=2099)
    # A wallet pays when there is one (empty: refused) unless the driver chose the card.
    wallet_get_or_create(user=driver)
    assert wallet_authorization_for_id_tag(id_tag="CARD-DORA").reason == "balance below minimum"
    services.card_preference_set(user=driver, by_card=True)
    assert wallet_authorization_for_id_tag(id_tag="CARD-DORA").reason == "card"
    # A card-paid session is never stopped by the wallet guard.
    assert wallet_should_stop(user=driver, running_cost=D("100")) is False


# ------------------------------------------------------------------ default and removal


def test_remove_the_default_card_detaches_it(stripe_org, tenant_a, login, driver):
    first = saved_card(driver, method="pm_1")
    second = saved_card(driver, method="pm_2", is_default=False)
    client = login(tenant_a, driver)
    assert client.post(f"/payments/cards/{second.pk}/default/").status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    stripe_org.script.append((200, {"id": "pm_2", "object": "payment_method", "customer": None}))
    assert client.post(f"/payments/cards/{second.pk}/remove/").status_code == 302
    [detach] = stripe_org.requests
    assert (detach.method, detach.url) == ("POST", f"{STRIPE_API}/payment_methods/pm_2/detach")
    assert detach.headers["Idempotency-Key"] == f"{second.setup_reference}:remove"
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == "removed" and not second.is_default and first.is_default  # the other took over
    # Someone else's card: not found.
    other = login(tenant_a, _user(tenant_a, "eve@example.com"))
    assert other.post(f"/payments/cards/{first.pk}/remove/").status_code == 404
    first.refresh_from_db()
    assert first.status == "active"


def test_remove_an_adyen_card(adyen_org, driver):
    card = saved_card(driver, provider="adyen", method="8415", customer="o1.driver-7")
    adyen_org.script.append((204, {}))
    services.card_remove(user=driver, card=card)
    [delete] = adyen_org.requests
    assert delete.method == "DELETE" and delete.url.startswith(f"{CHECKOUT}/storedPaymentMethods/8415?")
    assert "shopperReference=o1.driver-7" in delete.url and "merchantAccount=AlphaECOM" in delete.url
    assert delete.headers["Idempotency-Key"] == f"{card.setup_reference}:remove"
    card.refresh_from_db()
    assert card.status == "removed"


# ------------------------------------------------------------------ pages


def test_driver_and_operator_pages_show_the_session(stripe_org, tenant_a, login, make_user, charger, driver, flat):
    saved_card(driver)
    tx = start(charger)
    stripe_org.script.append((200, intent("requires_capture")))
    payment = services.payment_on_transaction_started(transaction_id=tx.pk)
    mine = login(tenant_a, driver).get("/payments/my/").content.decode()
    assert f"#{tx.transaction_id}" in mine and "•••• 4242" in mine and "30.00" in mine
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN, email="boss@alpha.example")
    client = login(tenant_a, admin)
    listing = client.get("/payments/").content.decode()
    assert driver.email in listing and f"#{tx.transaction_id}" in listing and "card on file" in listing
    detail = client.get(f"/payments/{payment.pk}/").content.decode()
    assert "pre-authorised off-session" in detail and charger.identity in detail
    assert driver.email in client.get(f"/payments/?q={tx.transaction_id}").content.decode()


def test_another_organisation_sees_no_card(stripe_org, tenant_a, tenant_b, login, make_user, driver):
    card = saved_card(driver)
    stranger = make_user(tenant_b, role=Role.DRIVER, email="dora@example.com")
    client = login(tenant_b, stranger)
    assert client.get(f"/payments/cards/setup/{card.setup_reference}/status/").status_code == 404
    assert client.post(f"/payments/cards/{card.pk}/remove/").status_code == 404
    assert "4242" not in client.get("/payments/cards/").content.decode()
    with schema_context(tenant_a.schema_name):
        card.refresh_from_db()
    assert card.status == "active"


def test_stripe_setup_failure_is_shown_and_the_driver_may_retry(stripe_org, client_a, driver):
    stripe_org.script += [(200, {"id": "cus_1", "object": "customer"}), (200, setup_intent())]
    card = services.card_setup_start(user=driver, return_url="https://alpha.example/back/")
    failed = setup_intent(
        "requires_payment_method",
        metadata={"merchant_reference": card.setup_reference},
        last_setup_error={"message": "Your card was declined."},
    )
    assert post(client_a, *signed(event("evt_fail", "setup_intent.setup_failed", failed))).status_code == 200
    card.refresh_from_db()
    assert (card.status, card.last_error) == ("pending", "Your card was declined.")
