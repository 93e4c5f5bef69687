"""Adyen: Checkout /payments with authorisationType=PreAuth and manual capture, amount updates
(raise the hold before capturing a session that cost more), captures, cancels, refunds, and
standard webhooks whose every item is verified with the HMAC key (Adyen.util).

Adyen answers modifications with "received": the outcome arrives later as a webhook
(CAPTURE, CANCELLATION, REFUND, ... with success true/false), keyed by pspReference.
"""

from __future__ import annotations

import copy
import json

import Adyen
from Adyen.exceptions import (
    AdyenAPIAuthenticationError,
    AdyenAPICommunicationError,
    AdyenAPIInvalidPermission,
    AdyenAPIResponseError,
    AdyenAPIUnprocessableEntity,
    AdyenAPIValidationError,
    AdyenError,
)
from Adyen.util import is_valid_hmac_notification

from apps.payments.gateways.base import (
    MALFORMED,
    MAX_EVENT_ID,
    MAX_REFERENCE,
    Gateway,
    GatewayEvent,
    GatewayResult,
    GatewayUnavailable,
    InvalidSignature,
    from_minor,
    rejected_event,
    to_minor,
)

EVENT_KINDS = {
    "AUTHORISATION": "authorized",
    "AUTHORISATION_ADJUSTMENT": "other",
    "CAPTURE": "captured",
    "CAPTURE_FAILED": "capture_failed",
    "CANCELLATION": "cancelled",
    "REFUND": "refunded",
    "REFUND_FAILED": "refund_failed",
    # The card of a zero-value authorisation with storePaymentMethod is stored (pspReference is
    # the recurringDetailReference / storedPaymentMethodId).
    "RECURRING_CONTRACT": "card_saved",
}
# Refused requests and wrong credentials: retrying the same request cannot help.
REFUSED = (AdyenAPIValidationError, AdyenAPIUnprocessableEntity, AdyenAPIAuthenticationError, AdyenAPIInvalidPermission)


class AdyenGateway(Gateway):
    provider = "adyen"
    supports_amount_update = True

    def __init__(
        self,
        *,
        api_key: str,
        merchant_account: str,
        hmac_key: str = "",
        live: bool = False,
        live_endpoint_prefix: str = "",
        http_client=None,
        **_,
    ):
        self.merchant_account = merchant_account
        self.hmac_key = hmac_key
        self.adyen = Adyen.Adyen(
            xapikey=api_key,
            platform="live" if live else "test",
            live_endpoint_prefix=live_endpoint_prefix or None,
        )
        if http_client is not None:  # the SDK's own seam: tests record requests here
            self.adyen.client.http_client = http_client
            self.adyen.client.http_init = True
        self.checkout_api = self.adyen.checkout

    def _amount(self, amount, currency) -> dict:
        return {"value": to_minor(amount, currency), "currency": currency}

    def _call(self, fn, *args, **kwargs) -> GatewayResult:
        try:
            result = fn(*args, **kwargs)
        except REFUSED as exc:
            return GatewayResult(ok=False, error=str(exc))
        except (AdyenAPIResponseError, OSError) as exc:  # 5xx, 404, network (requests' errors are OSErrors)
            raise GatewayUnavailable(str(exc)) from exc
        except AdyenError as exc:
            return GatewayResult(ok=False, error=str(exc))
        data = result.message or {}
        status = data.get("resultCode") or data.get("status") or ""
        return GatewayResult(
            ok=status in ("Authorised", "received", "Pending", "Received", "RedirectShopper", "IdentifyShopper"),
            reference=data.get("pspReference") or result.psp or "",
            status=status,
            action=data.get("action"),
            error=data.get("refusalReason", ""),
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
        request = {
            "merchantAccount": self.merchant_account,
            "amount": self._amount(amount, currency),
            "reference": merchant_reference,
            "paymentMethod": payment_method or {},
            "returnUrl": return_url or "https://localhost/",
        }
        if manual_capture:
            # A pre-authorisation can be raised later (amount update) and is captured by us.
            request["additionalData"] = {"authorisationType": "PreAuth", "manualCapture": "true"}
        if customer:
            request.update(
                shopperReference=customer,
                shopperInteraction="ContAuth",
                recurringProcessingModel="UnscheduledCardOnFile",
            )
        return self._call(self.checkout_api.payments_api.payments, request, idempotency_key=idempotency_key)

    def checkout(
        self, *, amount, currency, merchant_reference, idempotency_key, manual_capture, return_url, shopper_email=""
    ):
        """A Checkout session (/sessions) for Adyen Web Drop-in: the browser gets `id` and
        `sessionData`; the pspReference arrives with the AUTHORISATION webhook."""
        request = {
            "merchantAccount": self.merchant_account,
            "amount": self._amount(amount, currency),
            "reference": merchant_reference,
            "returnUrl": return_url,
        }
        if shopper_email:
            request["shopperEmail"] = shopper_email
        if manual_capture:
            request["additionalData"] = {"authorisationType": "PreAuth", "manualCapture": "true"}
        return self._session(request, idempotency_key)

    def _session(self, request: dict, idempotency_key: str) -> GatewayResult:
        try:
            result = self.checkout_api.payments_api.sessions(request, idempotency_key=idempotency_key)
        except REFUSED as exc:
            return GatewayResult(ok=False, error=str(exc))
        except (AdyenAPIResponseError, OSError) as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except AdyenError as exc:
            return GatewayResult(ok=False, error=str(exc))
        data = result.message or {}
        if not data.get("id") or not data.get("sessionData"):
            return GatewayResult(ok=False, error="Adyen returned no session.", raw=data)
        return GatewayResult(
            ok=True,
            status="session",
            action={"session": {"id": data["id"], "sessionData": data["sessionData"]}},
            raw=data,
        )

    def _modification(self, fn, psp_reference, idempotency_key, /, **body) -> GatewayResult:
        request = {"merchantAccount": self.merchant_account, **body}
        return self._call(fn, request, psp_reference, idempotency_key=idempotency_key)

    def update_amount(self, *, reference, amount, currency, merchant_reference, idempotency_key):
        return self._modification(
            self.checkout_api.modifications_api.update_authorised_amount,
            reference,
            idempotency_key,
            amount=self._amount(amount, currency),
            reference=merchant_reference,
            industryUsage="delayedCharge",
        )

    def capture(self, *, reference, amount, currency, merchant_reference, idempotency_key):
        return self._modification(
            self.checkout_api.modifications_api.capture_authorised_payment,
            reference,
            idempotency_key,
            amount=self._amount(amount, currency),
            reference=merchant_reference,
        )

    def cancel(self, *, reference, merchant_reference, idempotency_key):
        return self._modification(
            self.checkout_api.modifications_api.cancel_authorised_payment_by_psp_reference,
            reference,
            idempotency_key,
            reference=merchant_reference,
        )

    def refund(self, *, reference, amount, currency, merchant_reference, idempotency_key):
        return self._modification(
            self.checkout_api.modifications_api.refund_captured_payment,
            reference,
            idempotency_key,
            amount=self._amount(amount, currency),
            reference=merchant_reference,
        )

    # ------------------------------------------------------------------ cards on file

    def card_setup(self, *, customer, setup_reference, currency, idempotency_key, return_url):
        """A zero-value authorisation in Drop-in that stores the card for the shopper; the stored
        payment method id arrives by webhook (AUTHORISATION with tokenisation data, and
        RECURRING_CONTRACT). Nothing is charged, so nothing is captured or cancelled later."""
        request = {
            "merchantAccount": self.merchant_account,
            "amount": {"value": 0, "currency": currency},
            "reference": setup_reference,
            "returnUrl": return_url,
            "shopperReference": customer,
            "storePaymentMethod": True,
            "storePaymentMethodMode": "enabled",
            "shopperInteraction": "Ecommerce",
            "recurringProcessingModel": "UnscheduledCardOnFile",
            "allowedPaymentMethods": ["scheme"],
        }
        return self._session(request, idempotency_key)

    def stored_payment_method(self, *, payment_method):
        return {"type": "scheme", "storedPaymentMethodId": payment_method}

    def card_remove(self, *, customer, payment_method, idempotency_key):
        try:
            self.checkout_api.recurring_api.delete_token_for_stored_payment_details(
                payment_method,
                idempotency_key=idempotency_key,
                query_parameters={"shopperReference": customer, "merchantAccount": self.merchant_account},
            )
        except AdyenAPICommunicationError as exc:
            if getattr(exc, "status_code", None) == 404:  # already gone: removed is removed
                return GatewayResult(ok=True, reference=payment_method, status="deleted")
            raise GatewayUnavailable(str(exc)) from exc
        except REFUSED as exc:
            return GatewayResult(ok=False, error=str(exc))
        except (AdyenAPIResponseError, OSError) as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except AdyenError as exc:
            return GatewayResult(ok=False, error=str(exc))
        return GatewayResult(ok=True, reference=payment_method, status="deleted")

    def _valid(self, item: dict) -> bool:
        try:
            # The SDK returns None (not False) when there is no additionalData at all.
            return is_valid_hmac_notification(copy.deepcopy(item), self.hmac_key) is True
        except (KeyError, ValueError, TypeError):
            return False

    def parse_webhook(self, *, body: bytes, headers) -> list[GatewayEvent]:
        if not self.hmac_key:
            raise InvalidSignature("no HMAC key configured")
        try:
            data = json.loads(body)
            items = [wrapper["NotificationRequestItem"] for wrapper in data["notificationItems"]]
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            # RecursionError: a deeply nested body; nothing in it can be verified.
            raise InvalidSignature(f"not an Adyen notification: {exc!r}"[:200]) from exc
        # One bad item makes the whole batch suspect: nothing is processed.
        if not items or not all(isinstance(item, dict) and self._valid(item) for item in items):
            raise InvalidSignature("HMAC signature does not match")
        events = []
        for item in items:
            # Signed: an item EVzone cannot read is accepted (Adyen would redeliver the batch
            # forever otherwise) and recorded as rejected; the batch's other items go on.
            try:
                event = self._event(item)
            except MALFORMED as exc:
                event = None
                reason = f"unreadable: {exc!r}"
            else:
                refs = (event.event_id, event.payment_reference, event.merchant_reference, event.modification_reference)
                reason = "" if all(isinstance(r, str) and len(r) <= MAX_REFERENCE for r in refs) else "too long"
                reason = reason or ("" if len(event.event_id) <= MAX_EVENT_ID else "too long")
            if reason:
                psp = item.get("pspReference")
                key = f"{psp}:{item.get('eventCode')}:{item.get('success')}" if isinstance(psp, str) else ""
                body = json.dumps(item, sort_keys=True, default=str).encode()
                event = rejected_event(reason=reason, event_id=key, event_type=item.get("eventCode"), body=body)
            events.append(event)
        return events

    def _event(self, item: dict) -> GatewayEvent:
        code = item.get("eventCode", "")
        success = str(item.get("success", "")).lower() == "true"
        kind = EVENT_KINDS.get(code, "other")
        if code == "AUTHORISATION" and not success:
            kind = "failed"
        elif code in ("CAPTURE", "REFUND") and not success:
            kind = "capture_failed" if code == "CAPTURE" else "refund_failed"
        elif code == "CANCELLATION" and not success:
            kind = "other"
        currency = (item.get("amount") or {}).get("currency", "")
        value = (item.get("amount") or {}).get("value")
        original = item.get("originalReference", "")
        card = _stored_card(item) if success else {}
        if code == "RECURRING_CONTRACT":
            card = {"payment_method": item.get("pspReference", ""), **card} if success else {}
            kind = "card_saved" if success else "card_failed"
        return GatewayEvent(
            # Adyen's documented de-duplication key: pspReference + eventCode (+ success,
            # since a failed and a later successful notification may share both).
            event_id=f"{item.get('pspReference')}:{code}:{success}",
            kind=kind,
            payment_reference=original or item.get("pspReference", ""),
            merchant_reference=item.get("merchantReference", ""),
            modification_reference=item.get("pspReference", "") if original else "",
            amount=from_minor(value, currency) if value is not None and currency else None,
            currency=currency,
            success=success,
            provider_type=code,
            payload=item,
            card=card,
        )


def _stored_card(item: dict) -> dict:
    """The stored card an AUTHORISATION (or RECURRING_CONTRACT) tells about, from additionalData
    (Adyen's keys: tokenization.* since Checkout v68, recurring.* before; cardSummary is the
    last 4 digits, expiryDate "M/YYYY" when the merchant account has it enabled)."""
    extra = item.get("additionalData") or {}
    method = extra.get("tokenization.storedPaymentMethodId") or extra.get("recurring.recurringDetailReference", "")
    if not method and item.get("eventCode") != "RECURRING_CONTRACT":
        return {}
    card = {
        "payment_method": method,
        "customer": extra.get("tokenization.shopperReference") or extra.get("recurring.shopperReference", ""),
        "brand": item.get("paymentMethod", ""),
        "last4": extra.get("cardSummary", ""),
    }
    month, _, year = (extra.get("expiryDate") or "").partition("/")
    if month.isdigit() and year.isdigit():
        card.update(exp_month=int(month), exp_year=int(year))
    return {k: v for k, v in card.items() if v not in ("", None)}
