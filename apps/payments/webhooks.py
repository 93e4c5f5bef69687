"""Gateway webhooks, on the organisation's own host (the tenant comes from the Host header):

    https://<organisation domain>/payments/webhooks/stripe/
    https://<organisation domain>/payments/webhooks/adyen/

Each organisation registers these URLs in its own Stripe/Adyen account, with its own signing
secret / HMAC key (stored encrypted in GatewayConfig). Only a valid signature gets past the
first lines: anything else is answered 400 and nothing is stored or processed.
"""

import logging

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.payments import gateways, services
from apps.payments.gateways.base import InvalidSignature
from apps.payments.selectors import gateway_config

log = logging.getLogger(__name__)


def _receive(request, provider: str):
    config = gateway_config()
    if config is None or config.provider != provider:
        return HttpResponseBadRequest("This organisation does not use this gateway.")
    try:
        events = gateways.gateway_for(config).parse_webhook(body=request.body, headers=request.headers)
    except InvalidSignature as exc:
        log.warning("%s webhook rejected: %s", provider, exc)
        return HttpResponseBadRequest("Invalid signature.")
    for event in events:
        stored = services.webhook_event_record(provider=provider, event=event)
        services.webhook_event_process(stored=stored, event=event)
    return None


@csrf_exempt
@require_POST
def stripe_webhook(request):
    return _receive(request, "stripe") or HttpResponse(status=200)


@csrf_exempt
@require_POST
def adyen_webhook(request):
    # Adyen wants exactly this body, or it redelivers.
    return _receive(request, "adyen") or HttpResponse("[accepted]")
