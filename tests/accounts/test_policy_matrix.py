"""Every (role, endpoint, method) gets what apps/accounts/policy.py says, pages and API alike.

The endpoints are not listed here: the API's come from drf-spectacular's endpoint inspector
(the operations of /api/schema/), the pages' from the tenant URL conf. An endpoint or page
added without a rule fails `test_every_*_declares_a_rule`; one whose view checks something
else than its rule fails the matrix. "Allowed" means past the permission check: any answer
but 401/403 (an empty body gives 400, a made-up id 404, an offline charger 409).
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.accounts.models import Role
from apps.accounts.permissions import Policy, view_policy_name
from apps.accounts.policy import ADMIN_ONLY_COMMANDS, COMMAND_RULES, POLICY, allowed
from apps.csms.catalogue import ALL_OUTBOUND, console_rule
from tests.conftest import host_of

TENANT_ROLES = [r for r in Role if r != Role.PLATFORM_STAFF]
DENIED = {401, 403}
MISSING = "999999"  # permission is checked before the object is looked up

# Pages with no role rule on purpose, and why. Anything else must carry @role_required(name).
UNRULED_PAGES = {
    # Signed-in people's own things (login_required; the queryset limits them to their own).
    "portal:home": "dispatches drivers to their home, staff to the dashboard",
    "portal:token_list": "own API tokens",
    "portal:token_revoke": "own API tokens",
    "billing:invoice_pdf": "own invoice or money.view, checked per invoice",
    "billing:my_receipts": "own receipts",
    "wallets:my_wallet": "own wallet",
    "wallets:my_wallet_export": "own wallet",
    "wallets:topup": "own wallet",
    "wallets:topup_pay": "own payment",
    "wallets:group_list": "own group wallets",
    "wallets:group_detail": "own group wallets",
    "wallets:group_statement_export": "own group wallets",
    "wallets:member_invite": "own group wallets",
    "wallets:member_update": "own group wallets",
    "wallets:member_remove": "own group wallets",
    "wallets:member_accept": "invitation secret",
    "payments:payment_status": "own payment",
    "payments:my_cards": "own cards",
    "payments:card_add": "own cards",
    "payments:card_preference": "own cards",
    "payments:card_setup": "own cards",
    "payments:card_status": "own cards",
    "payments:card_default": "own cards",
    "payments:card_remove": "own cards",
    "payments:my_payments": "own payments",
    # Public: QR guest charging, payment gateways' webhooks (signed), charger log uploads
    # (one-time token), signing in.
    "qr:guest": "public",
    "qr:guest_status": "public",
    "qr:guest_stop": "public",
    "qr:guest_create": "public",
    "qr:connector": "public",
    "qr:start": "public",
    "qr:stop": "public",
    "qr:image": "public",
    "payments:stripe_webhook": "signed webhook",
    "payments:adyen_webhook": "signed webhook",
    "payments:platform_stripe_webhook": "signed webhook",
    "payments:platform_adyen_webhook": "signed webhook",
    "diagnostics:log_upload": "one-time upload token",
    "diagnostics:None": "one-time upload token",
    "accounts:login": "public",
    "accounts:logout": "public",
    "accounts:signup": "public",
    "accounts:password_reset": "public",
    "accounts:password_reset_done": "public",
    "accounts:password_reset_confirm": "public",
    "accounts:password_reset_complete": "public",
    "accounts:invitation": "public",
    "None:media": "the organisation's own logo only (apps/tenants/views.py)",
}
# Pages that refuse on more than the role: the matrix only checks that they deny whom the rule denies.
BEYOND_THE_ROLE = {"portal:child_list": "only on a reseller's own domain (tenant A is an operator)"}
# The API views that do not answer to the policy table: the schema and its docs (public).
UNRULED_API = {"SpectacularAPIView", "SpectacularSwaggerView"}


# ------------------------------------------------------------------------------ enumeration
def api_operations():
    """(path, method, view callback) of every operation in the OpenAPI schema."""
    inspector = SchemaGenerator.endpoint_inspector_cls(urlconf="config.urls_tenant")
    return [(path, method, callback) for path, _regex, method, callback in inspector.get_api_endpoints()]


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, namespace


def portal_pages():
    """(route, "namespace:name", pattern) of every page of an organisation's domain."""
    pages = []
    for route, pattern, namespace in _walk(get_resolver("config.urls_tenant").url_patterns):
        if route.startswith(("admin/", "api/")):
            continue
        pages.append((route, f"{namespace}:{pattern.name}", pattern))
    return pages


def _view_for(callback, method: str, path_kwargs: dict, body=None):
    """The DRF view instance and request the permission class would see."""
    wsgi = getattr(APIRequestFactory(), method.lower())("/", body or {}, format="json")
    request = Request(wsgi, parsers=[JSONParser()])
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    view.request, view.kwargs = request, path_kwargs
    actions = getattr(callback, "actions", None)
    if actions:
        view.action = actions.get(method.lower())
    return view, request


# ------------------------------------------------------------------------------ declarations
def test_every_api_operation_declares_a_rule():
    missing = []
    for path, method, callback in api_operations():
        if callback.cls.__name__ in UNRULED_API:
            continue
        view, request = _view_for(callback, method, {"action": "Reset", "identity": "X", "pk": "1"})
        name = view_policy_name(view, request)
        if name not in POLICY:
            missing.append(f"{method} {path} ({callback.cls.__name__}): {name!r}")
        if [type(p) for p in view.get_permissions()] != [Policy]:
            missing.append(f"{method} {path} ({callback.cls.__name__}): permission classes other than Policy")
    assert not missing, "Declare a rule (apps/accounts/policy.py) for:\n" + "\n".join(missing)


def test_every_page_declares_a_rule():
    missing = []
    for route, name, pattern in portal_pages():
        rule = getattr(pattern.callback, "policy", None)
        if name in UNRULED_PAGES:
            assert rule is None, f"{name} has a rule now: drop it from UNRULED_PAGES"
            continue
        if not (isinstance(rule, str) and rule in POLICY):
            missing.append(f"{route} ({name}): {rule!r}")
    assert not missing, "Use @role_required('<policy name>') on:\n" + "\n".join(missing)


def test_every_ocpp_command_has_a_console_rule():
    """A new OCPP action must say who may send it raw (or be admin-only by name)."""
    unruled = ALL_OUTBOUND - set(COMMAND_RULES) - ADMIN_ONLY_COMMANDS
    assert not unruled
    assert all(rule in POLICY for rule in COMMAND_RULES.values())


def test_the_failing_declaration_check_catches_an_undeclared_action():
    """The checker itself: a viewset action with no rule is refused and reported."""

    class Fake:
        policy = {"list": "locations.view"}
        action = "archive"

    request = Request(APIRequestFactory().post("/"))
    assert view_policy_name(Fake(), request) is None
    Fake.action = "list"
    assert view_policy_name(Fake(), Request(APIRequestFactory().get("/"))) == "locations.view"


# ------------------------------------------------------------------------------ the matrix
@pytest.fixture
def objects(tenant_a, in_tenant_a):
    from tests.factories.chargers import ChargePointFactory, LocationFactory
    from tests.factories.charging import IdTokenFactory
    from tests.factories.tariffs import TariffFactory

    location = LocationFactory()
    return {
        "locations": location.pk,
        "charge-points": ChargePointFactory(identity="PM-1", location=location).identity,
        "id-tokens": IdTokenFactory().pk,
        "tariffs": TariffFactory().pk,
    }


def _client(org, user) -> Client:
    # A 500 is "past the permission check" too; the other suites own those.
    client = Client(HTTP_HOST=host_of(org), raise_request_exception=False)
    if user is not None:
        with schema_context(org.schema_name):
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _api_requests(objects):
    """Every schema operation with real ids (and each OCPP action for the console); the
    DELETEs last, so the other requests find the objects."""
    for path, method, callback in sorted(api_operations(), key=lambda op: op[1] == "DELETE"):
        if callback.cls.__name__ in UNRULED_API:
            continue
        resource = path.split("/")[3]
        actions = sorted(ALL_OUTBOUND) if "{action}" in path else [None]
        for ocpp_action in actions:
            kwargs = {"identity": objects["charge-points"], "pk": str(objects.get(resource, MISSING))}
            if ocpp_action:
                kwargs["action"] = ocpp_action
            url = re.sub(r"\{(\w+)\}", lambda m, kw=kwargs: str(kw[m.group(1)]), path)
            yield url, method, callback, kwargs


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*TENANT_ROLES, None], ids=lambda r: r or "anonymous")
def test_api_matrix(tenant_a, make_user, objects, command_bus, role):
    user = make_user(tenant_a, role=role) if role else None
    client = _client(tenant_a, user)
    wrong = []
    for url, method, callback, kwargs in _api_requests(objects):
        view, request = _view_for(callback, method, kwargs)
        expected = user is not None and allowed(user, view_policy_name(view, request))
        response = getattr(client, method.lower())(url, {}, content_type="application/json")
        if (response.status_code not in DENIED) != expected:
            wrong.append(f"{method} {url}: {response.status_code}, policy says {'allow' if expected else 'deny'}")
        if user is None and response.status_code != 401:
            wrong.append(f"{method} {url}: anonymous got {response.status_code}")
    assert not wrong, "\n".join(wrong)


def _page_url(route: str) -> str:
    def value(name: str, converter: str) -> str:
        if name == "fmt":
            return "csv"
        return MISSING if converter == "int" else "X-1"

    url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: value(m.group(2), m.group(1) or "str"), route)
    return "/" + url


@pytest.mark.django_db
@pytest.mark.parametrize("role", TENANT_ROLES)
def test_page_matrix(tenant_a, make_user, command_bus, role):
    user = make_user(tenant_a, role=role)
    client = _client(tenant_a, user)
    wrong = []
    for route, name, pattern in portal_pages():
        rule = getattr(pattern.callback, "policy", None)
        if rule is None or route.startswith("^"):
            continue
        url = _page_url(route)
        response = client.get(url)
        if response.status_code == 405:  # POST-only pages check the rule first all the same
            response = client.post(url, {})
        expected = allowed(user, rule)
        if expected and name in BEYOND_THE_ROLE:
            continue
        if (response.status_code != 403) != expected:
            wrong.append(
                f"{url} ({name}, {rule}): {response.status_code}, policy says {'allow' if expected else 'deny'}"
            )
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------------------ issue #16 item 2
@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.OPERATOR_STAFF])
def test_non_admins_cannot_change_locations_through_the_api(tenant_a, make_user, login, objects, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    item = f"/api/v1/locations/{objects['locations']}/"
    body = {"name": "Moved", "address": "Somewhere 1", "city": "Berlin", "country": "DE"}
    assert client.post("/api/v1/locations/", body, content_type="application/json").status_code == 403
    assert client.put(item, body, content_type="application/json").status_code == 403
    assert client.patch(item, {"name": "Moved"}, content_type="application/json").status_code == 403
    assert client.delete(item).status_code == 403
    assert client.get(item).status_code == 200
    # As the Locations page: the edit page is admin-only too.
    assert client.get(f"/locations/{objects['locations']}/edit/").status_code == 403


@pytest.mark.django_db
def test_admin_still_changes_locations_through_the_api(tenant_a, make_user, login, objects):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    item = f"/api/v1/locations/{objects['locations']}/"
    response = client.patch(item, {"name": "Moved"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "Moved"


ERASE = {"requestId": 1, "report": False, "clear": True, "idToken": {"idToken": "AB12", "type": "ISO14443"}}


@pytest.mark.django_db
def test_technician_cannot_erase_customer_data_from_the_console(tenant_a, make_user, login, make_charge_point):
    cp = make_charge_point(identity="GDPR-1", ocpp201=True, online=True)
    tech = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    url = f"/api/v1/charge-points/{cp.identity}/ocpp/CustomerInformation"
    assert tech.post(url, ERASE, content_type="application/json").status_code == 403
    # The charger page's raw form is the same console.
    form = {"action": "CustomerInformation", "payload": '{"requestId": 1, "report": false, "clear": true}'}
    assert tech.post(f"/chargers/{cp.identity}/command/", form).status_code == 403
    # Raw writes of the security controller's settings: admins.
    secret = {
        "setVariableData": [
            {
                "attributeValue": "x" * 20,
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }
        ]
    }
    assert (
        tech.post(
            f"/api/v1/charge-points/{cp.identity}/ocpp/SetVariables", secret, content_type="application/json"
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_admin_may_erase_and_technician_may_reset(tenant_a, make_user, login, make_charge_point, command_bus):
    cp = make_charge_point(identity="GDPR-2", ocpp201=True, online=True)
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    url = f"/api/v1/charge-points/{cp.identity}/ocpp/CustomerInformation"
    assert admin.post(url, ERASE, content_type="application/json").status_code == 200
    tech = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    reset = tech.post(
        f"/api/v1/charge-points/{cp.identity}/ocpp/Reset", {"type": "OnIdle"}, content_type="application/json"
    )
    assert reset.status_code == 200
    assert console_rule("CustomerInformation", ERASE) == "customer_data"
    assert console_rule("SelfDestruct", {}) == "chargers.operate"  # the port answers unknown_action


@pytest.mark.django_db
def test_the_message_log_is_for_operators_on_the_page_and_the_api(tenant_a, make_user, login, make_charge_point):
    cp = make_charge_point(identity="LOG-1")
    finance = login(tenant_a, make_user(tenant_a, role=Role.FINANCE))
    assert finance.get(f"/api/v1/charge-points/{cp.identity}/messages/").status_code == 403
    assert finance.get(f"/chargers/{cp.identity}/messages/").status_code == 403
    detail = finance.get(f"/chargers/{cp.identity}/")
    assert detail.status_code == 200 and "Message log" not in detail.content.decode()
    tech = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    assert "Message log" in tech.get(f"/chargers/{cp.identity}/").content.decode()


@pytest.mark.django_db
def test_security_keys_from_the_charger_page_are_admin_only(tenant_a, make_user, login, make_charge_point, command_bus):
    cp = make_charge_point(identity="KEY-1", online=True)
    form = {"action": "ChangeConfiguration", "key": "AuthorizationKey", "value": "00" * 20}
    tech = login(tenant_a, make_user(tenant_a, role=Role.TECHNICIAN))
    assert tech.post(f"/chargers/{cp.identity}/command/", form).status_code == 403
    ordinary = {"action": "ChangeConfiguration", "key": "HeartbeatInterval", "value": "120"}
    assert tech.post(f"/chargers/{cp.identity}/command/", ordinary).status_code == 302
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    assert admin.post(f"/chargers/{cp.identity}/command/", form).status_code == 302
    assert [s.action for s in command_bus.sent] == ["ChangeConfiguration", "ChangeConfiguration"]
