"""Stripe: PaymentIntents with capture_method=manual (authorise, capture the final amount,
cancel to release), refunds, and webhooks verified with Stripe-Signature.

The organisation's own secret key is used through a `stripe.StripeClient` (never the global
`stripe.api_key`: several organisations share one process). Stripe retries are off; Celery
retries with the same idempotency key instead.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import stripe

from apps.payments.gateways.base import (
    MALFORMED,
    MAX_EVENT_ID,
    MAX_EVENT_TYPE,
    MAX_REFERENCE,
    CardDetails,
    Gateway,
    GatewayEvent,
    GatewayResult,
    GatewayUnavailable,
    InvalidSignature,
    from_minor,
    rejected_event,
    to_minor,
)

# Stripe event type -> EVzone event kind.
EVENT_KINDS = {
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.succeeded": "captured",
    "payment_intent.canceled": "cancelled",
    "payment_intent.payment_failed": "failed",
    "refund.updated": "refunded",
    "refund.failed": "refund_failed",
    "charge.refund.updated": "refunded",
    # Cards saved for later (SetupIntent, usage=off_session).
    "setup_intent.succeeded": "card_saved",
    "setup_intent.setup_failed": "card_failed",
}
RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeGateway(Gateway):
    provider = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str = "", http_client=None, **_):
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(secret_key, http_client=http_client, max_network_retries=0)

    def _call(self, fn, *args, failed=("requires_payment_method", "canceled"), **kwargs) -> GatewayResult:
        try:
            obj = fn(*args, **kwargs)
        except RETRYABLE as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.StripeError as exc:  # declined card, invalid state, bad request
            return GatewayResult(ok=False, error=exc.user_message or str(exc), raw=exc.json_body or {})
        data = obj.to_dict()
        return GatewayResult(
            ok=data.get("status") not in (*failed, "failed"),
            reference=data.get("id", ""),
            status=data.get("status", ""),
            client_secret=data.get("client_secret") or "",
            raw=data,
        )

    def authorize(
        self,
        *,
        amount,
        currency,
        merchant_reference,
        idempotency_key,
        manual_capture=True,
        payment_method=None,
        customer="",
        return_url="",
    ):
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "capture_method": "manual" if manual_capture else "automatic",
            "metadata": {"merchant_reference": merchant_reference},
            "description": f"EVzone {merchant_reference}",
        }
        if customer:
            params["customer"] = customer
        if payment_method:  # a card on file: confirm now, the driver is not there to do it
            params.update(payment_method=payment_method, confirm=True, off_session=True)
        else:
            params["automatic_payment_methods"] = {"enabled": True}
        return self._call(
            self.client.v1.payment_intents.create, params=params, options={"idempotency_key": idempotency_key}
        )

    def checkout(
        self, *, amount, currency, merchant_reference, idempotency_key, manual_capture, return_url, shopper_email=""
    ):
        # A PaymentIntent the Payment Element confirms with its client_secret (3-D Secure included).
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "capture_method": "manual" if manual_capture else "automatic",
            "metadata": {"merchant_reference": merchant_reference},
            "description": f"EVzone {merchant_reference}",
            "automatic_payment_methods": {"enabled": True},
        }
        if shopper_email:
            params["receipt_email"] = shopper_email
        return self._call(
            self.client.v1.payment_intents.create,
            params=params,
            options={"idempotency_key": idempotency_key},
            failed=("canceled",),  # requires_payment_method is where a new intent starts
        )

    def retrieve(self, *, reference):
        return self._call(self.client.v1.payment_intents.retrieve, reference, failed=("canceled",))

    def fetch_fee(self, *, reference):
        """Stripe puts the fee on the charge's balance transaction, which payment_intent events do
        not expand: ask for it explicitly. Its currency is the account's settlement currency."""
        try:
            intent = self.client.v1.payment_intents.retrieve(
                reference, params={"expand": ["latest_charge.balance_transaction"]}
            )
        except RETRYABLE as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.StripeError:
            return None
        charge = intent.to_dict().get("latest_charge")
        balance = charge.get("balance_transaction") if isinstance(charge, dict) else None
        if not isinstance(balance, dict) or balance.get("fee") is None:
            return None  # not settled into the balance yet: the caller retries later
        currency = (balance.get("currency") or "").upper()
        return from_minor(balance["fee"], currency), currency

    def capture(self, *, reference, amount, currency, merchant_reference, idempotency_key):
        return self._call(
            self.client.v1.payment_intents.capture,
            reference,
            params={"amount_to_capture": to_minor(amount, currency)},
            options={"idempotency_key": idempotency_key},
        )

    def cancel(self, *, reference, merchant_reference, idempotency_key):
        return self._call(
            self.client.v1.payment_intents.cancel,
            reference,
            params={"cancellation_reason": "abandoned"},
            options={"idempotency_key": idempotency_key},
            failed=(),
        )

    def refund(self, *, reference, amount, currency, merchant_reference, idempotency_key):
        return self._call(
            self.client.v1.refunds.create,
            params={
                "payment_intent": reference,
                "amount": to_minor(amount, currency),
                "metadata": {"merchant_reference": merchant_reference},
            },
            options={"idempotency_key": idempotency_key},
        )

    # ------------------------------------------------------------------ cards on file

    def customer_create(self, *, driver_reference, email, idempotency_key):
        # The idempotency key is per driver: two pages opened at once get the same Customer.
        params = {"metadata": {"evzone_driver": driver_reference}, "description": f"EVzone {driver_reference}"}
        if email:
            params["email"] = email
        return self._call(self.client.v1.customers.create, params=params, options={"idempotency_key": idempotency_key})

    def card_setup(self, *, customer, setup_reference, currency, idempotency_key, return_url):
        # usage=off_session: the bank is told the card will be charged without the driver present,
        # so later pre-authorisations do not ask for 3-D Secure again (when the bank agrees).
        params = {
            "customer": customer,
            "usage": "off_session",
            # Cards only: the hold at each session start is a card pre-authorisation.
            "payment_method_types": ["card"],
            "metadata": {"merchant_reference": setup_reference},
            "description": f"EVzone card on file {setup_reference}",
        }
        return self._call(
            self.client.v1.setup_intents.create,
            params=params,
            options={"idempotency_key": idempotency_key},
            failed=("canceled",),
        )

    def card_setup_retrieve(self, *, reference):
        try:
            intent = self.client.v1.setup_intents.retrieve(reference, params={"expand": ["payment_method"]})
        except RETRYABLE as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.StripeError:
            return "", None
        data = intent.to_dict()
        method = data.get("payment_method")
        if data.get("status") != "succeeded" or not method:
            return data.get("status", ""), None
        if isinstance(method, dict):
            return "succeeded", _card_details(method)
        return "succeeded", CardDetails(payment_method=method)

    def card_details(self, *, payment_method):
        try:
            method = self.client.v1.payment_methods.retrieve(payment_method)
        except RETRYABLE as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.StripeError:
            return None
        return _card_details(method.to_dict())

    def card_remove(self, *, customer, payment_method, idempotency_key):
        result = self._call(
            self.client.v1.payment_methods.detach, payment_method, options={"idempotency_key": idempotency_key}
        )
        code = (result.raw.get("error") or {}).get("code", "") if not result.ok else ""
        if code in ("resource_missing", "payment_method_not_attached"):  # already gone: removed is removed
            return GatewayResult(ok=True, reference=payment_method, status="detached", raw=result.raw)
        return result

    def parse_webhook(self, *, body: bytes, headers) -> list[GatewayEvent]:
        if not self.webhook_secret:
            raise InvalidSignature("no webhook secret configured")
        try:
            text = body.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                text, headers.get("Stripe-Signature"), self.webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature(str(exc)) from exc
        _refuse_future_timestamp(headers.get("Stripe-Signature") or "")
        # Signed from here on: whatever is wrong with the event, Stripe would send it again
        # forever if it were refused, so it is acknowledged and recorded as rejected.
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return [rejected_event(reason="not JSON", body=body)]
        if not isinstance(data, dict):
            return [rejected_event(reason="not a JSON object", body=body)]
        event_id, event_type = data.get("id"), data.get("type")
        if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(data.get("data"), dict)):
            return [rejected_event(reason="no id, type or data", event_id=event_id, event_type=event_type, body=body)]
        if len(event_id) > MAX_EVENT_ID or len(event_type) > MAX_EVENT_TYPE or "\x00" in event_id + event_type:
            return [rejected_event(reason="id or type too long", event_id=event_id, event_type=event_type, body=body)]
        try:
            events = self._events(data)
        except MALFORMED as exc:
            return [rejected_event(reason=f"unreadable: {exc!r}", event_id=event_id, event_type=event_type, body=body)]
        for event in events:
            refs = (event.payment_reference, event.merchant_reference, event.modification_reference)
            if not all(isinstance(ref, str) and len(ref) <= MAX_REFERENCE for ref in refs):
                return [
                    rejected_event(reason="reference too long", event_id=event_id, event_type=event_type, body=body)
                ]
        return events

    def _events(self, data: dict) -> list[GatewayEvent]:
        obj = data["data"]["object"]
        if not isinstance(obj, dict):
            raise TypeError("data.object is not an object")
        kind = EVENT_KINDS.get(data["type"], "other")
        currency = (obj.get("currency") or "").upper()
        amount, fee, payment_ref, modification = None, None, obj.get("id", ""), ""
        if obj.get("object") == "payment_intent":
            minor = obj.get("amount_received") if kind == "captured" else obj.get("amount_capturable")
            if kind in ("cancelled", "failed"):
                minor = obj.get("amount")
            charge = obj.get("latest_charge")
            if isinstance(charge, dict) and isinstance(charge.get("balance_transaction"), dict):
                fee = from_minor(charge["balance_transaction"].get("fee", 0), currency)
        elif obj.get("object") == "setup_intent":
            method = obj.get("payment_method")
            method_id = method.get("id", "") if isinstance(method, dict) else method or ""
            card = {"payment_method": method_id, "customer": obj.get("customer") or ""}
            if isinstance(method, dict):
                card.update(asdict(_card_details(method)))
            minor = None
            error = (obj.get("last_setup_error") or {}).get("message", "")
            return [
                GatewayEvent(
                    event_id=data["id"],
                    kind=kind,
                    payment_reference=payment_ref,
                    merchant_reference=(obj.get("metadata") or {}).get("merchant_reference", ""),
                    success=kind == "card_saved",
                    provider_type=data["type"],
                    payload=data,
                    card={**card, "error": error},
                )
            ]
        elif obj.get("object") == "refund":
            minor, payment_ref, modification = obj.get("amount"), obj.get("payment_intent") or "", obj.get("id", "")
            if obj.get("status") == "failed":
                kind = "refund_failed"
            elif obj.get("status") != "succeeded":
                kind = "other"
        else:
            minor = None
        if minor is not None and currency:
            amount = from_minor(minor, currency)
        return [
            GatewayEvent(
                event_id=data["id"],
                kind=kind,
                payment_reference=payment_ref,
                merchant_reference=(obj.get("metadata") or {}).get("merchant_reference", ""),
                modification_reference=modification,
                amount=amount,
                currency=currency,
                fee=fee,
                success=kind not in ("failed", "refund_failed", "capture_failed"),
                provider_type=data["type"],
                payload=data,
            )
        ]


def _card_details(method: dict) -> CardDetails:
    card = method.get("card") or {}
    return CardDetails(
        payment_method=method.get("id", ""),
        brand=card.get("display_brand") or card.get("brand") or method.get("type", ""),
        last4=card.get("last4", ""),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )


def _refuse_future_timestamp(header: str) -> None:
    """The SDK refuses a signature older than its tolerance but accepts any from the future: a
    signature made for a later time (a leaked signing moment, a skewed clock) would stay
    replayable until then. Apply the tolerance both ways."""
    stamps = [item[2:] for item in header.split(",") if item.startswith("t=")]
    try:
        timestamp = int(stamps[0])
    except (IndexError, ValueError) as exc:  # construct_event already checked; never trust twice
        raise InvalidSignature("no timestamp in the signature header") from exc
    if timestamp > time.time() + stripe.Webhook.DEFAULT_TOLERANCE:
        raise InvalidSignature("the signature's timestamp is in the future")
