"""The organisation's gateway choice and credentials."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.payments.gateways import CREDENTIAL_FIELDS
from apps.payments.models import GatewayConfig, Provider


@transaction.atomic
def gateway_config_save(
    *, provider: str, credentials: dict, live: bool = False, preauth_amount: Decimal | None = None
) -> GatewayConfig:
    """Store the gateway and its credentials encrypted. A blank credential keeps the stored one:
    forms never show secrets back, so an untouched field arrives empty."""
    if provider not in Provider.values:
        raise ValidationError({"provider": "Unknown gateway."})
    config = GatewayConfig.objects.select_for_update().order_by("pk").first() or GatewayConfig()
    old = config.credentials if config.provider == provider else {}
    allowed = CREDENTIAL_FIELDS.get(provider, {})
    merged = {name: (str(credentials.get(name) or "").strip() or old.get(name, "")) for name in allowed}
    required = [n for n in allowed if n != "live_endpoint_prefix"]
    if provider == Provider.ADYEN and live:
        required.append("live_endpoint_prefix")
    missing = [allowed[n] for n in required if not merged.get(n)]
    if missing:
        raise ValidationError({"credentials": f"Missing: {', '.join(missing)}."})
    config.provider, config.live = provider, live
    config.credentials = merged
    if preauth_amount is not None:
        if preauth_amount <= 0:
            raise ValidationError({"preauth_amount": "The pre-authorised amount must be positive."})
        config.preauth_amount = preauth_amount
    config.save()
    return config
