"""The organisation's gateway choice and credentials."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.payments.gateways import CREDENTIAL_FIELDS, OPTIONAL_FIELDS
from apps.payments.models import GatewayConfig, Provider
from apps.payments.platform import platform_credentials


@transaction.atomic
def gateway_config_save(
    *,
    provider: str,
    credentials: dict,
    live: bool = False,
    preauth_amount: Decimal | None = None,
    use_platform: bool = False,
) -> GatewayConfig:
    """Store the gateway and its credentials encrypted. A blank credential keeps the stored one:
    forms never show secrets back, so an untouched field arrives empty.

    `use_platform`: the platform's own account (credentials from the environment, never stored;
    allowed only when the platform has configured that provider). The organisation's own stored
    credentials are kept, so switching back needs no re-entry."""
    if provider not in Provider.values:
        raise ValidationError({"provider": "Unknown gateway."})
    config = GatewayConfig.objects.select_for_update().order_by("pk").first() or GatewayConfig()
    if use_platform:
        if platform_credentials(provider) is None:
            raise ValidationError({"use_platform": "The platform has no account with this gateway."})
        config.provider, config.use_platform = provider, True
        if preauth_amount is not None:
            _set_preauth(config, preauth_amount)
        config.save()
        return config
    config.use_platform = False
    old = config.credentials if config.provider == provider else {}
    allowed = CREDENTIAL_FIELDS.get(provider, {})
    merged = {name: (str(credentials.get(name) or "").strip() or old.get(name, "")) for name in allowed}
    required = [n for n in allowed if n not in OPTIONAL_FIELDS]
    if provider == Provider.ADYEN and live:
        required.append("live_endpoint_prefix")
    missing = [allowed[n] for n in required if not merged.get(n)]
    if missing:
        raise ValidationError({"credentials": f"Missing: {', '.join(missing)}."})
    config.provider, config.live = provider, live
    config.credentials = {name: value for name, value in merged.items() if value}
    if preauth_amount is not None:
        _set_preauth(config, preauth_amount)
    config.save()
    return config


def _set_preauth(config: GatewayConfig, amount: Decimal) -> None:
    if amount <= 0:
        raise ValidationError({"preauth_amount": "The pre-authorised amount must be positive."})
    config.preauth_amount = amount
