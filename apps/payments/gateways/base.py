"""The one interface every payment gateway implements.

Amounts cross this interface as Decimal + ISO 4217 currency; each implementation converts to
its API's minor units. Every call that changes money takes an idempotency key, which the
implementation sends to the gateway, so a retried call (lost answer, Celery retry) cannot
charge or refund twice. Declines come back as `GatewayResult(ok=False)`; a gateway that could
not be reached (or failed on its side) raises `GatewayUnavailable`, which callers retry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import get_currency_precision

from apps.core.money import quantize


class GatewayUnavailable(Exception):
    """Network error, timeout, 5xx or rate limit: worth retrying with the same idempotency key."""


class InvalidSignature(Exception):
    """A webhook whose signature is missing, malformed or wrong: nothing in it may be used."""


@dataclass(frozen=True)
class GatewayResult:
    ok: bool
    reference: str = ""  # the gateway's id of the payment (authorise) or of the modification
    status: str = ""  # the gateway's own status word, for the audit trail
    client_secret: str = ""  # Stripe: what the browser needs to confirm the card
    action: dict | None = None  # Adyen: what the browser must do next (3-D Secure, redirect)
    error: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayEvent:
    """A webhook event in EVzone's words. `kind` is one of EVENT_KINDS."""

    event_id: str  # unique per gateway: what makes processing once possible
    kind: str
    payment_reference: str  # the gateway's id of the payment concerned
    merchant_reference: str  # ours (Payment.merchant_reference), when the gateway echoes it
    modification_reference: str = ""  # the capture/refund/cancel's own id, when it has one
    amount: Decimal | None = None
    currency: str = ""
    fee: Decimal | None = None
    success: bool = True
    provider_type: str = ""
    payload: dict = field(default_factory=dict)
    # A card stored for later payments (Adyen: an AUTHORISATION with tokenisation data, or
    # RECURRING_CONTRACT; Stripe: setup_intent.succeeded): payment_method, customer, brand,
    # last4, exp_month, exp_year, whichever the event tells.
    card: dict = field(default_factory=dict)
    # Validly signed but not an event EVzone can read (a field missing, of the wrong type or
    # too long): the reason. Acknowledged and recorded as rejected, never processed, so the
    # gateway stops redelivering something no retry will ever make readable.
    rejected: str = ""


EVENT_KINDS = (
    "authorized",
    "captured",
    "capture_failed",
    "cancelled",
    "refunded",
    "refund_failed",
    "failed",
    "card_saved",
    "card_failed",
    "other",
)


@dataclass(frozen=True)
class CardDetails:
    """A stored card as the gateway describes it: references and display data only."""

    payment_method: str
    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None


def to_minor(amount: Decimal, currency: str) -> int:
    digits = get_currency_precision(currency)
    return int(quantize(amount, currency).scaleb(digits))


def from_minor(value: int, currency: str) -> Decimal:
    return quantize(Decimal(value).scaleb(-get_currency_precision(currency)), currency)


class Gateway(ABC):
    provider: str = ""
    # Adyen can raise a pre-authorisation before capture; Stripe captures at most what it held.
    supports_amount_update: bool = False

    @abstractmethod
    def authorize(
        self,
        *,
        amount: Decimal,
        currency: str,
        merchant_reference: str,
        idempotency_key: str,
        manual_capture: bool = True,
        payment_method: dict | str | None = None,
        customer: str = "",
        return_url: str = "",
    ) -> GatewayResult: ...

    @abstractmethod
    def capture(
        self, *, reference: str, amount: Decimal, currency: str, merchant_reference: str, idempotency_key: str
    ) -> GatewayResult: ...

    @abstractmethod
    def cancel(self, *, reference: str, merchant_reference: str, idempotency_key: str) -> GatewayResult: ...

    @abstractmethod
    def refund(
        self, *, reference: str, amount: Decimal, currency: str, merchant_reference: str, idempotency_key: str
    ) -> GatewayResult: ...

    def update_amount(
        self, *, reference: str, amount: Decimal, currency: str, merchant_reference: str, idempotency_key: str
    ) -> GatewayResult:
        raise NotImplementedError(f"{self.provider} cannot change an authorised amount")

    def checkout(
        self,
        *,
        amount: Decimal,
        currency: str,
        merchant_reference: str,
        idempotency_key: str,
        manual_capture: bool,
        return_url: str,
        shopper_email: str = "",
    ) -> GatewayResult:
        """Start a payment the shopper completes in the browser (card entry). The result carries
        what the browser's SDK needs: `client_secret` (Stripe) or `action["session"]` (Adyen)."""
        raise NotImplementedError

    def retrieve(self, *, reference: str) -> GatewayResult | None:
        """The payment's current state at the gateway, for a synchronous confirmation after the
        browser says it is done (None: this gateway only tells by webhook)."""
        return None

    def fetch_fee(self, *, reference: str) -> tuple[Decimal, str] | None:
        """The gateway's fee for a captured payment and its currency, if the API tells it."""
        return None

    # ------------------------------------------------------------------ cards on file

    def customer_create(self, *, driver_reference: str, email: str, idempotency_key: str) -> GatewayResult:
        """The gateway's customer for a driver (`reference`). Adyen has no customer object: the
        shopperReference is ours. Stripe creates a Customer."""
        return GatewayResult(ok=True, reference=driver_reference)

    def card_setup(
        self, *, customer: str, setup_reference: str, currency: str, idempotency_key: str, return_url: str
    ) -> GatewayResult:
        """Start saving a card in the browser, for later off-session payments."""
        raise NotImplementedError

    def card_setup_retrieve(self, *, reference: str) -> tuple[str, CardDetails | None]:
        """(gateway status word, the stored card once saved), for a synchronous confirmation."""
        return "", None

    def card_details(self, *, payment_method: str) -> CardDetails | None:
        return None

    def stored_payment_method(self, *, payment_method: str) -> dict | str:
        """What `authorize(payment_method=...)` takes for a stored card."""
        return payment_method

    def card_remove(self, *, customer: str, payment_method: str, idempotency_key: str) -> GatewayResult:
        raise NotImplementedError

    @abstractmethod
    def parse_webhook(self, *, body: bytes, headers) -> list[GatewayEvent]:
        """Verify the signature and return the events; raise InvalidSignature otherwise."""


# What the event id and type columns of WebhookEvent hold.
MAX_EVENT_ID, MAX_EVENT_TYPE, MAX_REFERENCE = 255, 120, 255

# What reading a signed event's fields can raise when they are missing or of the wrong type.
MALFORMED = (KeyError, TypeError, AttributeError, ValueError, ArithmeticError, LookupError)


def rejected_event(*, reason: str, event_id: object = "", event_type: object = "", body: bytes = b"") -> GatewayEvent:
    """The record of a signed event that cannot be read. Its id is the gateway's when that is a
    usable string (a redelivery then finds the same record), else a digest of the body."""
    import hashlib

    digest = hashlib.sha256(body).hexdigest()
    usable = isinstance(event_id, str) and 0 < len(event_id) <= MAX_EVENT_ID and "\x00" not in event_id
    kind = event_type if isinstance(event_type, str) and "\x00" not in event_type else ""
    return GatewayEvent(
        event_id=event_id if usable else f"rejected:{digest}",
        kind="other",
        payment_reference="",
        merchant_reference="",
        provider_type=kind[:MAX_EVENT_TYPE],
        payload={"rejected": reason, "sha256": digest, "size": len(body)},
        rejected=reason[:200],
    )
