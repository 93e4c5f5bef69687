"""A guest pays a hold by card at the QR page; RemoteStart only once the hold is authorised (by a
signed webhook or the synchronous confirmation); the session is linked to the payment and its
CDR captures the cost; failures release the hold; double clicks and redelivered webhooks start
one session on one hold. Stripe behind its fake HTTP client, the charger behind a fake command_bus."""

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
import stripe
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.chargers.services import charge_point_connected, connector_status_record
from apps.charging.models import IdToken
from apps.charging.services import transaction_start, transaction_stop
from apps.payments.models import Payment
from apps.payments.services import gateway_config_save
from apps.qr import guest as guest_module
from apps.qr.models import GuestSession, QrEvent
from apps.qr.services import connector_codes_ensure
from tests.conftest import host_of
from tests.payments.conftest import STRIPE_SECRET, STRIPE_WHSEC, fake_http  # noqa: F401
from tests.wallets.conftest import FLAT_TARIFF, import_tariff

pytestmark = [pytest.mark.django_db]
D = Decimal


@pytest.fixture
def site(tenant_a, fake_http):  # noqa: F811
    with schema_context(tenant_a.schema_name):
        from apps.chargers.services import charge_point_create

        cp = charge_point_create(identity="GUEST-CP", password="g" * 20, name="Station")
        charge_point_connected(charge_point_id=cp.pk, connection_id="x", protocol_version="ocpp1.6")
        connector_status_record(
            charge_point_id=cp.pk, evse_id=1, connector_id=1, status="Available", timestamp=timezone.now()
        )
        [code] = connector_codes_ensure(charge_point=cp)
        gateway_config_save(
            provider="stripe",
            credentials={"secret_key": STRIPE_SECRET, "webhook_secret": STRIPE_WHSEC, "publishable_key": "pk_test_a"},
            preauth_amount=30,
        )
        import_tariff(FLAT_TARIFF)
        cp.refresh_from_db()
    return SimpleNamespace(cp=cp, code=code, stripe=fake_http["stripe"])


def intent(status, **extra):
    return {"id": "pi_g", "object": "payment_intent", "status": status, "amount": 3000, "currency": "eur", **extra}


def webhook(client, event_id, type_, obj):
    body = json.dumps({"id": event_id, "object": "event", "type": type_, "data": {"object": obj}})
    sig = stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC)
    return client.post("/payments/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)


def start_as_guest(client, site, key="k1", answer=True):
    if answer:
        site.stripe.script.append((200, intent("requires_payment_method", client_secret="pi_g_secret_x")))
    response = client.post(f"/c/{site.code.code}/guest/", {"email": "Guest@Example.com", "key": key})
    assert response.status_code == 302, response.content
    return response.url


def test_guest_pays_then_starts_then_capture_at_cdr(
    tenant_a, site, command_bus, django_capture_on_commit_callbacks, monkeypatch
):
    client = Client(HTTP_HOST=host_of(tenant_a))
    page = client.get(f"/c/{site.code.code}/").content.decode()
    assert "Pay by card and start" in page and "30" in page
    link = start_as_guest(client, site)
    assert start_as_guest(client, site, answer=False) == link  # double click: same session, same hold
    [create] = site.stripe.requests  # the second click made no gateway call
    assert create.url == "https://api.stripe.com/v1/payment_intents"
    assert create.body["capture_method"] == "manual" and create.body["amount"] == "3000"
    assert create.body["automatic_payment_methods[enabled]"] == "true"
    assert create.body["receipt_email"] == "guest@example.com"
    # The card form: publishable key and client secret, never the secret key.
    body = client.get(link).content.decode()
    assert "pk_test_a" in body and "pi_g_secret_x" in body and STRIPE_SECRET not in body
    assert "js.stripe.com/v3" in body
    assert command_bus.sent == []  # nothing starts before the hold is authorised

    with schema_context(tenant_a.schema_name):
        payment = Payment.objects.get()
        ref = payment.merchant_reference
    assert ref.startswith(f"o{tenant_a.pk}.guest-")
    authorized = intent("requires_capture", amount_capturable=3000, metadata={"merchant_reference": ref})
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook(client, "evt_a1", "payment_intent.amount_capturable_updated", authorized).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook(client, "evt_a1", "payment_intent.amount_capturable_updated", authorized).status_code == 200
        # Another event saying the same (and the browser's confirmation) start nothing more.
        assert webhook(client, "evt_a2", "payment_intent.amount_capturable_updated", authorized).status_code == 200
    assert [a for a, _ in command_bus.sent] == ["RemoteStartTransaction"]
    with schema_context(tenant_a.schema_name):
        guest = GuestSession.objects.get()
        assert guest.status == "started"
        assert command_bus.sent[0][1] == {"connectorId": 1, "idTag": guest.id_tag}
        assert IdToken.objects.get(id_token=guest.id_tag).status == "Accepted"
    assert len(mail.outbox) == 1 and "/c/guest/" in mail.outbox[0].body

    # The charger starts the session with the guest's token; the page links it to the payment.
    with schema_context(tenant_a.schema_name):
        tx, info = transaction_start(
            charge_point_id=site.cp.pk, connector_id=1, id_tag=guest.id_tag, meter_start=0, timestamp=timezone.now()
        )
        assert info.status == "Accepted"
    state = client.get(link + "?partial=1").content.decode()
    assert 'data-status="charging"' in state and "Stop charging" in state
    command_bus.answers.append(("ok", {"status": "Accepted"}))
    assert client.post(link + "stop/").status_code == 302
    assert command_bus.sent[-1] == ("RemoteStopTransaction", {"transactionId": int(tx.transaction_id)})

    # 10 kWh at 0.50: the CDR captures 5.00 of the 30.00 hold.
    site.stripe.script.append((200, intent("succeeded", amount_received=500)))
    monkeypatch.setattr("apps.payments.tasks.fetch_fee.apply_async", lambda **kw: None)
    with django_capture_on_commit_callbacks(execute=True), schema_context(tenant_a.schema_name):
        transaction_stop(
            charge_point_id=site.cp.pk,
            transaction_id=tx.transaction_id,
            meter_stop=10_000,
            timestamp=timezone.now() + dt.timedelta(hours=1),
        )
    capture = site.stripe.requests[-1]
    assert capture.url == "https://api.stripe.com/v1/payment_intents/pi_g/capture"
    assert capture.body == {"amount_to_capture": "500"}
    with schema_context(tenant_a.schema_name):
        payment.refresh_from_db()
        assert (payment.status, payment.amount_captured, payment.transaction_id) == ("captured", D("5.00"), tx.pk)
    state = client.get(link + "?partial=1").content.decode()
    assert 'data-testid="receipt"' in state and "5.00 EUR" in state
    with schema_context(tenant_a.schema_name):
        guest.refresh_from_db()
        assert guest.status == "completed" and guest.receipt_sent_at is not None
        assert IdToken.objects.get(id_token=guest.id_tag).status == "Blocked"  # one session per token
    assert "Your charging receipt" in mail.outbox[-1].subject and "5.00 EUR" in mail.outbox[-1].body
    client.get(link + "?partial=1")
    assert len(mail.outbox) == 2  # the receipt is sent once


@pytest.mark.parametrize("answer", [("offline", None), ("ok", {"status": "Rejected"}), ("timeout", None)])
def test_failed_remote_start_releases_the_hold(tenant_a, site, command_bus, django_capture_on_commit_callbacks, answer):
    client = Client(HTTP_HOST=host_of(tenant_a))
    link = start_as_guest(client, site)
    command_bus.answers.append(answer)
    site.stripe.script += [(200, intent("requires_capture", amount_capturable=3000)), (200, intent("canceled"))]
    # The synchronous confirmation (the browser says the card step is done) authorises the hold.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link + "status/")
    state = client.get(link + "status/").json()
    assert state["status"] == "start_failed" and state["failed"]
    retrieve, cancel = site.stripe.requests[1:]
    assert (retrieve.method, retrieve.url) == ("GET", "https://api.stripe.com/v1/payment_intents/pi_g")
    assert cancel.url == "https://api.stripe.com/v1/payment_intents/pi_g/cancel"
    with schema_context(tenant_a.schema_name):
        assert Payment.objects.get().status == "cancelled"
        assert QrEvent.objects.filter(kind="start_refused").exists()
    assert "released" in client.get(link).content.decode()


def test_no_car_within_the_window_releases_the_hold(tenant_a, site, command_bus, django_capture_on_commit_callbacks):
    client = Client(HTTP_HOST=host_of(tenant_a))
    link = start_as_guest(client, site)
    site.stripe.script.append((200, intent("requires_capture", amount_capturable=3000)))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link + "status/")
    with schema_context(tenant_a.schema_name):
        GuestSession.objects.update(started_at=timezone.now() - dt.timedelta(minutes=6))
    site.stripe.script.append((200, intent("canceled")))
    from apps.qr.tasks import guest_sweep

    guest_sweep()
    with schema_context(tenant_a.schema_name):
        assert GuestSession.objects.get().status == "cancelled"
        assert Payment.objects.get().status == "cancelled"


def test_offline_charger_or_no_gateway_makes_no_hold(tenant_a, site, command_bus):
    client = Client(HTTP_HOST=host_of(tenant_a))
    with schema_context(tenant_a.schema_name):
        from apps.chargers.models import ChargePoint

        ChargePoint.objects.filter(pk=site.cp.pk).update(online=False)
    page = client.post(f"/c/{site.code.code}/guest/", {"email": "g@example.com", "key": "k"}, follow=True)
    assert "offline" in page.content.decode()
    assert site.stripe.requests == []
    with schema_context(tenant_a.schema_name):
        ChargePoint.objects.filter(pk=site.cp.pk).update(online=True)
        gateway_config_save(provider="none", credentials={})
    page = client.get(f"/c/{site.code.code}/").content.decode()
    assert "Card payment is not available" in page and "Pay by card" not in page


def test_links_are_signed(tenant_a, site, command_bus):
    client = Client(HTTP_HOST=host_of(tenant_a))
    link = start_as_guest(client, site)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert client.get(link).status_code == 200
    assert client.get(link.replace(token, token[:-2] + "xx")).status_code == 404
    with schema_context(tenant_a.schema_name):
        other = GuestSession.objects.get()
        forged = guest_module.signing.dumps([other.pk, "guess"], salt="someone")
    assert client.get(f"/c/guest/{forged}/").status_code == 404
    # Another organisation's host does not know the guest.
    assert Client(HTTP_HOST="beta.localhost").get(link).status_code in (400, 404)
