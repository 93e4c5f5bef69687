"""Validly signed but malformed gateway events are acknowledged (so the gateway stops
retrying) and recorded as rejected; unverifiable bodies are a 400 (issue #16 item 4)."""

import json

import pytest
import stripe
from Adyen.util import generate_notification_sig
from django_tenants.utils import schema_context

from apps.payments.models import WebhookEvent
from tests.payments.test_adyen import ADYEN_HMAC, notify
from tests.payments.test_stripe import STRIPE_WHSEC, post

pytestmark = pytest.mark.django_db

STRIPE_MALFORMED = [
    {"id": "evt_x", "object": "event", "type": "payment_intent.succeeded"},  # no data
    {"id": "evt_x", "object": "event", "data": {"object": {"object": "payment_intent"}}},  # no type
    {"object": "event", "type": "payment_intent.succeeded", "data": {"object": {}}},  # no id
    {"id": "evt_x", "type": "payment_intent.succeeded", "data": "nope"},
    {"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": ["a"]}},
    {"id": 12, "type": ["t"], "data": {"object": {}}},
    {"id": "evt_" + "x" * 400, "type": "payment_intent.succeeded", "data": {"object": {"object": "payment_intent"}}},
    {
        "id": "evt_x",
        "type": "payment_intent.succeeded",
        "data": {"object": {"object": "payment_intent", "amount_received": "lots", "currency": 5}},
    },
    [1, 2, 3],
]


@pytest.mark.parametrize("payload", STRIPE_MALFORMED)
def test_a_signed_malformed_stripe_event_is_acknowledged_and_recorded_as_rejected(stripe_org, client_a, payload):
    body = json.dumps(payload)
    response = post(client_a, body, stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC))
    assert response.status_code == 200
    with schema_context("org_alpha"):
        [stored] = WebhookEvent.objects.all()
        assert stored.result.startswith("rejected") and stored.processed_at is not None
    # Redelivered: acknowledged again, still one record.
    assert (
        post(client_a, body, stripe.WebhookSignature.generate_signature_header(body, STRIPE_WHSEC)).status_code == 200
    )
    with schema_context("org_alpha"):
        assert WebhookEvent.objects.count() == 1


def signed_item(**fields):
    body = {
        "amount": {"currency": "EUR", "value": 500},
        "eventCode": "AUTHORISATION",
        "pspReference": "PSP1",
        "merchantReference": "m",
        "success": "true",
        **fields,
    }
    body["additionalData"] = {"hmacSignature": generate_notification_sig(body, ADYEN_HMAC).decode()}
    return {"NotificationRequestItem": body}


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": {"currency": "EUR", "value": "lots"}},
        {"pspReference": "P" * 400},
        {"merchantReference": "m" * 400},
    ],
)
def test_a_signed_malformed_adyen_item_is_accepted_and_recorded_as_rejected(adyen_org, client_a, fields):
    response = notify(client_a, signed_item(**fields))
    assert response.status_code == 200 and response.content == b"[accepted]"
    with schema_context("org_alpha"):
        [stored] = WebhookEvent.objects.all()
        assert stored.result.startswith("rejected")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"notificationItems": [{"NotificationRequestItem": "x"}]}),
        json.dumps({"notificationItems": [{"NotificationRequestItem": {"additionalData": "x"}}]}),
        json.dumps({"notificationItems": "x"}),
    ],
)
def test_an_unverifiable_adyen_body_is_a_400(adyen_org, client_a, body):
    client_a.raise_request_exception = False
    response = client_a.post("/payments/webhooks/adyen/", body, content_type="application/json")
    assert response.status_code == 400
    with schema_context("org_alpha"):
        assert not WebhookEvent.objects.exists()
