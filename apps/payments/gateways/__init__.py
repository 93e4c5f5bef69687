"""The organisation's gateway, built from its encrypted configuration."""

from __future__ import annotations

from apps.payments.gateways.adyen_gateway import AdyenGateway
from apps.payments.gateways.base import (
    Gateway,
    GatewayEvent,
    GatewayResult,
    GatewayUnavailable,
    InvalidSignature,
)
from apps.payments.gateways.stripe_gateway import StripeGateway
from apps.payments.platform import platform_credentials, platform_live

__all__ = [
    "Gateway",
    "GatewayEvent",
    "GatewayResult",
    "GatewayUnavailable",
    "InvalidSignature",
    "client_settings",
    "credentials_for",
    "gateway_for",
]

# Credentials each provider needs (field name -> label); the settings form is built from these.
CREDENTIAL_FIELDS = {
    "stripe": {
        "secret_key": "Secret key (sk_...)",
        "webhook_secret": "Webhook signing secret (whsec_...)",
        "publishable_key": "Publishable key (pk_..., for card entry in the browser)",
    },
    "adyen": {
        "api_key": "API key",
        "merchant_account": "Merchant account",
        "hmac_key": "HMAC key (hex)",
        "client_key": "Client key (test_... / live_..., for card entry in the browser)",
        "live_endpoint_prefix": "Live endpoint prefix (live only)",
    },
}
# Meant for browsers (Stripe.js, Adyen Web): stored with the rest but shown back in forms and pages.
PUBLIC_FIELDS = {"publishable_key", "client_key", "merchant_account", "live_endpoint_prefix"}
# Not needed to take and confirm a payment on the server.
OPTIONAL_FIELDS = {"publishable_key", "client_key", "live_endpoint_prefix"}


def make_http_client(provider: str):
    """The HTTP client handed to the SDK: None means the SDK's own. Tests replace this function
    to give each SDK a fake client at its own seam (no network)."""
    return None


def credentials_for(config) -> dict:
    """The platform's credentials (environment) when the organisation uses the platform account,
    else its own (decrypted)."""
    if config.use_platform:
        creds = platform_credentials(config.provider)
        if creds is None:
            raise LookupError("The platform's payment account is not configured any more.")
        return creds
    return config.credentials


def is_live(config) -> bool:
    if config.use_platform:
        return platform_live()
    return config.live


def client_settings(config) -> dict | None:
    """What a browser needs to show the gateway's card form (no secret): provider, public key,
    environment. None when card entry in the browser is not possible."""
    if config is None or config.provider not in CREDENTIAL_FIELDS:
        return None
    try:
        creds = credentials_for(config)
    except (LookupError, ValueError):
        return None
    key = creds.get("publishable_key") if config.provider == "stripe" else creds.get("client_key")
    if not key:
        return None
    return {"provider": config.provider, "key": key, "environment": "live" if is_live(config) else "test"}


def gateway_for(config) -> Gateway:
    classes = {"stripe": StripeGateway, "adyen": AdyenGateway}
    if config is None or config.provider not in classes:
        raise LookupError("This organisation has no payment gateway configured.")
    return classes[config.provider](
        **credentials_for(config), live=is_live(config), http_client=make_http_client(config.provider)
    )


def platform_gateway(provider: str) -> Gateway:
    """The platform's own account (webhook verification for the shared endpoint)."""

    creds = platform_credentials(provider)
    classes = {"stripe": StripeGateway, "adyen": AdyenGateway}
    if creds is None or provider not in classes:
        raise LookupError(f"The platform has no {provider} account configured.")
    return classes[provider](**creds, live=platform_live(), http_client=make_http_client(provider))
