"""The platform's own gateway account, for organisations that choose it instead of their own.

Its credentials come from the environment (read by django-environ into settings, see
config/settings/base.py) and are never written to the database: an organisation using it stores only
`GatewayConfig.use_platform`. Its webhooks arrive at one URL per provider (views in
apps.payments.webhooks, `platform_*_webhook`) and are routed to the organisation by the prefix
every merchant reference carries (`o<organisation id>.`), see `organization_for_reference`.
"""

from __future__ import annotations

import re

from django.conf import settings

from apps.tenants.models import Organization
from apps.tenants.selectors import current_organization

# Provider -> credential name -> setting (and environment variable) holding it.
PLATFORM_ENV = {
    "stripe": {
        "secret_key": "EVZONE_STRIPE_SECRET_KEY",
        "publishable_key": "EVZONE_STRIPE_PUBLISHABLE_KEY",
        "webhook_secret": "EVZONE_STRIPE_WEBHOOK_SECRET",
    },
    "adyen": {
        "api_key": "EVZONE_ADYEN_API_KEY",
        "merchant_account": "EVZONE_ADYEN_MERCHANT_ACCOUNT",
        "client_key": "EVZONE_ADYEN_CLIENT_KEY",
        "hmac_key": "EVZONE_ADYEN_HMAC_KEY",
        "live_endpoint_prefix": "EVZONE_ADYEN_LIVE_ENDPOINT_PREFIX",
    },
}
# Without these the platform account cannot take a payment and confirm it by webhook.
REQUIRED = {"stripe": ("secret_key", "webhook_secret"), "adyen": ("api_key", "merchant_account", "hmac_key")}
_REFERENCE = re.compile(r"^o(\d+)\.")


def _value(name: str) -> str:
    return str(getattr(settings, name, "") or "").strip()


def platform_live() -> bool:
    return bool(settings.EVZONE_PAYMENTS_LIVE)


def platform_credentials(provider: str) -> dict | None:
    """The platform's credentials for `provider`, or None when it is not configured."""
    names = PLATFORM_ENV.get(provider)
    if not names:
        return None
    creds = {key: _value(env) for key, env in names.items()}
    if not all(creds[k] for k in REQUIRED[provider]):
        return None
    return creds


def platform_providers() -> list[str]:
    return [p for p in PLATFORM_ENV if platform_credentials(p) is not None]


def reference_prefix() -> str:
    """`o<organisation id>.`: put in front of every merchant reference so that a webhook of the
    shared platform account can be routed to its organisation (the id is short and stable; a
    schema name could be 63 characters, more than Adyen's reference allows with ours)."""

    org = current_organization()
    return f"o{org.pk}." if org is not None else ""


def organization_for_reference(reference: str):
    match = _REFERENCE.match(reference or "")
    if match is None:
        return None
    return Organization.objects.filter(pk=int(match.group(1))).exclude(schema_name="public").first()
