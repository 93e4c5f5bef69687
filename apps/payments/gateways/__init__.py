"""The organisation's gateway, built from its encrypted configuration."""

from __future__ import annotations

from apps.payments.gateways.base import (
    Gateway,
    GatewayEvent,
    GatewayResult,
    GatewayUnavailable,
    InvalidSignature,
)

__all__ = ["Gateway", "GatewayEvent", "GatewayResult", "GatewayUnavailable", "InvalidSignature", "gateway_for"]

# Credentials each provider needs (field name -> label); the settings form is built from these.
CREDENTIAL_FIELDS = {
    "stripe": {"secret_key": "Secret key (sk_...)", "webhook_secret": "Webhook signing secret (whsec_...)"},
    "adyen": {
        "api_key": "API key",
        "merchant_account": "Merchant account",
        "hmac_key": "HMAC key (hex)",
        "live_endpoint_prefix": "Live endpoint prefix (live only)",
    },
}


def make_http_client(provider: str):
    """The HTTP client handed to the SDK: None means the SDK's own. Tests replace this function
    to give each SDK a fake client at its own seam (no network)."""
    return None


def gateway_for(config) -> Gateway:
    from apps.payments.gateways.adyen_gateway import AdyenGateway
    from apps.payments.gateways.stripe_gateway import StripeGateway

    classes = {"stripe": StripeGateway, "adyen": AdyenGateway}
    if config is None or config.provider not in classes:
        raise LookupError("This organisation has no payment gateway configured.")
    return classes[config.provider](
        **config.credentials, live=config.live, http_client=make_http_client(config.provider)
    )
