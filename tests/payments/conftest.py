"""Payment fixtures. No network: each SDK gets a fake HTTP client at its own seam (Stripe: a
`stripe.HTTPClient` subclass given to `StripeClient(http_client=...)`; Adyen: the client's
`http_client`), which records every request and answers from a script."""

import json
from urllib.parse import parse_qsl

import pytest
import stripe
from django_tenants.utils import schema_context

from apps.payments import gateways
from apps.payments.services import gateway_config_save
from tests.billing.conftest import charger, driver, import_tariff  # noqa: F401
from tests.wallets.conftest import FLAT_TARIFF

STRIPE_SECRET = "sk_test_alpha_123"
STRIPE_WHSEC = "whsec_alpha_signing_secret"
ADYEN_HMAC = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


class Recorded:
    def __init__(self, method, url, headers, body):
        self.method, self.url, self.headers, self.body = method.upper(), url, dict(headers or {}), body

    def __repr__(self):
        return f"{self.method} {self.url}"


class FakeStripeHttp(stripe.HTTPClient):
    """Answers each request with the next scripted (status, body); records what the SDK sent."""

    name = "fake"

    def __init__(self):
        super().__init__()
        self.requests: list[Recorded] = []
        self.script: list[tuple[int, dict]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(Recorded(method, url, headers, dict(parse_qsl(post_data or ""))))
        status, body = self.script.pop(0)
        return json.dumps(body), status, {"request-id": f"req_{len(self.requests)}"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass


class FakeAdyenHttp:
    """Stands in for Adyen.httpclient.HTTPClient: same `request` signature and return shape."""

    user_agent = "fake-adyen"

    def __init__(self):
        self.requests: list[Recorded] = []
        self.script: list[tuple[int, dict]] = []

    def request(self, method, url, json=None, xapikey=None, headers=None, **kwargs):
        import json as json_lib

        self.requests.append(Recorded(method, url, {**(headers or {}), "x-api-key": xapikey}, json))
        status, body = self.script.pop(0)
        return json_lib.dumps(body), json_lib.dumps(json), status, {}


@pytest.fixture
def fake_http(monkeypatch):
    fakes = {"stripe": FakeStripeHttp(), "adyen": FakeAdyenHttp()}
    monkeypatch.setattr(gateways, "make_http_client", lambda provider: fakes[provider])
    return fakes


@pytest.fixture
def stripe_org(in_tenant_a, fake_http):
    gateway_config_save(
        provider="stripe", credentials={"secret_key": STRIPE_SECRET, "webhook_secret": STRIPE_WHSEC}, preauth_amount=30
    )
    return fake_http["stripe"]


@pytest.fixture
def adyen_org(in_tenant_a, fake_http):
    gateway_config_save(
        provider="adyen",
        credentials={"api_key": "AQE_test_key", "merchant_account": "AlphaECOM", "hmac_key": ADYEN_HMAC},
        preauth_amount=30,
    )
    return fake_http["adyen"]


@pytest.fixture
def flat(tenant_a):
    with schema_context(tenant_a.schema_name):
        return import_tariff(FLAT_TARIFF)
