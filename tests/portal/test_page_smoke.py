"""Every portal page without URL parameters opens for an operator admin and for finance
(200, or 403 where the role may not), and never errors."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import Role

SKIP_PREFIXES = ("admin/", "api/", "accounts/", "payments/webhooks/", "static/", "media/")


def _paths(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _paths(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if "<" in route or "(?P" in route or "^" in route or "$" in route:
                continue  # needs an object
            yield "/" + route


PAGES = sorted(
    {p for p in _paths(get_resolver("config.urls_tenant").url_patterns) if not p[1:].startswith(SKIP_PREFIXES)}
)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.FINANCE, Role.DRIVER])
def test_every_portal_page_opens_or_refuses_cleanly(tenant_a, make_user, login, role):
    client = login(tenant_a, make_user(tenant_a, role=role))
    failures = []
    for path in PAGES:
        status = client.get(path).status_code
        if status >= 500 or status not in (200, 302, 403, 405):
            failures.append(f"{path} → {status}")
    assert len(PAGES) > 20
    assert not failures, failures


def _charger_routes():
    """Every GET page about one charger: /chargers/<str:identity>/... with no other parameter."""
    routes = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = "/" + prefix + str(p.pattern)
                if route.startswith("/chargers/<str:identity>/") and route.count("<") == 1:
                    routes.append(route)

    walk(get_resolver("config.urls_tenant").url_patterns)
    return sorted(set(routes))


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"])
@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.TECHNICIAN, Role.DRIVER])
def test_every_charger_page_works_for_every_ocpp_version(tenant_a, make_user, login, role, version):
    from django_tenants.utils import schema_context

    from apps.chargers.services import charge_point_create

    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="SMOKE-CP", password="a-good-charger-password", protocol_version=version)
    client = login(tenant_a, make_user(tenant_a, role=role))
    routes = _charger_routes()
    failures = []
    for route in routes:
        path = route.replace("<str:identity>", "SMOKE-CP")
        status = client.get(path).status_code
        # 405: POST-only actions; 404 on a page a version does not have is not acceptable.
        if status not in (200, 302, 403, 405):
            failures.append(f"{path} → {status}")
    assert len(routes) > 10
    assert not failures, failures


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"])
def test_every_charger_action_survives_an_empty_form(tenant_a, make_user, login, version):
    """A form posted with nothing in it (or by hand) gets a message, never a server error;
    the charger is offline, so nothing can reach it either."""
    from django_tenants.utils import schema_context

    from apps.chargers.services import charge_point_create

    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="SMOKE-CP", password="a-good-charger-password", protocol_version=version)
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    failures = []
    for route in _charger_routes():
        path = route.replace("<str:identity>", "SMOKE-CP")
        status = client.post(path, {}).status_code
        if status not in (200, 302, 400, 403, 405):
            failures.append(f"POST {path} → {status}")
    assert not failures, failures


@pytest.mark.django_db
def test_another_organisation_reaches_none_of_a_chargers_pages(tenant_a, tenant_b, make_user, login):
    """Same identity, other organisation's domain: every charger page and the device-model
    API answer as if the charger did not exist."""
    from django.test import Client
    from django_tenants.utils import schema_context

    from apps.accounts.services import api_token_create
    from apps.chargers.services import charge_point_create
    from tests.conftest import host_of

    with schema_context(tenant_a.schema_name):
        charge_point_create(identity="ONLY-IN-A", password="a-good-charger-password", protocol_version="ocpp2.0.1")
    stranger = make_user(tenant_b, role=Role.OPERATOR_ADMIN)
    client = login(tenant_b, stranger)
    leaks = []
    for route in _charger_routes():
        path = route.replace("<str:identity>", "ONLY-IN-A")
        status = client.get(path).status_code
        if status not in (404, 405):
            leaks.append(f"{path} → {status}")
    assert not leaks, leaks
    with schema_context(tenant_b.schema_name):
        _, key = api_token_create(user=stranger, name="t")
    api = Client(HTTP_HOST=host_of(tenant_b), HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/charge-points/ONLY-IN-A/device-model/").status_code == 404
