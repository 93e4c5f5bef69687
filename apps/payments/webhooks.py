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
from django_tenants.utils import schema_context

from apps.payments import gateways, services
from apps.payments.gateways.base import InvalidSignature
from apps.payments.platform import organization_for_reference
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


# ------------------------------------------------------------------ the platform's own account
#
# Organisations that use the platform's account share one Stripe/Adyen account, so its webhooks
# come to one URL (registered once, by the platform), verified with the platform's secret / HMAC
# key from the environment, then dispatched: every merchant reference starts with `o<org id>.`
# (apps.payments.platform), echoed by both gateways on every event (Stripe: metadata; Adyen:
# merchantReference, also on modifications, whose references we derive from the payment's).
# Mounted on the platform host (config/urls_public.py) and on every organisation host; which
# host receives it does not matter, the reference decides the schema.


def _receive_platform(request, provider: str):
    try:
        events = gateways.platform_gateway(provider).parse_webhook(body=request.body, headers=request.headers)
    except LookupError:
        return HttpResponseBadRequest("The platform has no account with this gateway.")
    except InvalidSignature as exc:
        log.warning("platform %s webhook rejected: %s", provider, exc)
        return HttpResponseBadRequest("Invalid signature.")
    for event in events:
        org = organization_for_reference(event.merchant_reference)
        if org is None:  # not one of ours (another integration on the same account): acknowledged
            log.info("platform %s event %s for no organisation", provider, event.event_id)
            continue
        with schema_context(org.schema_name):
            stored = services.webhook_event_record(provider=provider, event=event)
            services.webhook_event_process(stored=stored, event=event)
    return None


@csrf_exempt
@require_POST
def platform_stripe_webhook(request):
    return _receive_platform(request, "stripe") or HttpResponse(status=200)


@csrf_exempt
@require_POST
def platform_adyen_webhook(request):
    return _receive_platform(request, "adyen") or HttpResponse("[accepted]")
