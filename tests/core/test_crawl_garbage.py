"""Garbage in every query parameter of every list page and API list endpoint: never a 5xx.

Generated, so a new page or endpoint is covered without editing this file:
- pages: every GET route of the tenant URL conf without path arguments (the Django admin
  and the webhooks aside); the parameters are the fields of the page's own GET forms (read
  from the page as an operator admin) plus the names list pages commonly read by hand;
- API: every GET operation without path parameters in the drf-spectacular schema, with the
  query parameters the schema lists (filters, search, ordering, pagination).
Each parameter gets each garbage value alone, then all at once, as an operator admin and
anonymously (issue #16 item 4).
"""

import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import Role
from tests.conftest import host_of

GARBAGE = [
    "\x00",
    "a\x00b",
    "99999999999999999999999999",
    "-1",
    "1e309",
    "abc",
    "2000-13-45",
    "2000-01-01T00:00:00+21:06",
    "2000-01-01T00:00:00-16:30",
    "x" * 3000,
    "",
]
# Names list pages parse from the query string themselves.
COMMON = ["q", "kind", "status", "location", "charger_group", "page", "since", "until", "from", "to", "sort", "order"]
SKIP_PREFIXES = ("admin/", "api/", "payments/webhooks/", "accounts/logout/", "__debug__/")
FORM_FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.I)
GET_FORM = re.compile(r"<form\b(?![^>]*method=\"post\")[^>]*>(.*?)</form>", re.I | re.S)


def _page_routes(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver("config.urls_tenant").url_patterns:
        route = str(p.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(p, URLResolver):
            yield from _page_routes(p.url_patterns, prefix + route)
        elif isinstance(p, URLPattern) and not (prefix + route).startswith(SKIP_PREFIXES):
            yield "/" + prefix + route


def _api_list_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        params = [p["name"] for p in get.get("parameters", []) if p.get("in") == "query"]
        yield path, params


def _queries(params):
    for value in GARBAGE:
        for name in params:
            yield name, value, urlencode({name: value})
        yield "*", value, urlencode(dict.fromkeys(params, value))


def _crawl(client, url, params):
    """(url, parameter, value) of each answer >= 500; "*" is all parameters at once."""
    failures = []
    for name, value, query in _queries(params):
        response = client.get(f"{url}?{query}")
        if response.status_code >= 500:
            failures.append((url, name, value[:30], response.status_code))
    return failures


@pytest.fixture
def clients(tenant_a, make_user, login):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    anonymous = Client(HTTP_HOST=host_of(tenant_a))
    for client in (admin, anonymous):
        client.raise_request_exception = False
    return admin, anonymous


def test_the_crawl_finds_the_pages_and_endpoints_it_should():
    pages = set(_page_routes())
    assert {"/chargers/", "/sessions/", "/payments/", "/tariffs/"} <= pages
    endpoints = dict(_api_list_endpoints())
    assert "last_seen__gte" in endpoints["/api/v1/charge-points/"]
    assert "date_joined__gte" in endpoints["/api/v1/users/"]


@pytest.mark.django_db
def test_garbage_query_values_never_give_a_5xx_on_pages(tenant_a, clients, in_tenant_a):
    admin, anonymous = clients
    failures = []
    for url in sorted(set(_page_routes())):
        page = admin.get(url)
        fields = set()
        if page.status_code == 200 and "html" in page.get("Content-Type", ""):
            for form in GET_FORM.findall(page.content.decode()):
                fields |= set(FORM_FIELD.findall(form))
        params = sorted(fields | set(COMMON))
        failures += _crawl(admin, url, params)
        failures += _crawl(anonymous, url, params[:3])
    assert not failures, failures


@pytest.mark.django_db
def test_garbage_query_values_never_give_a_5xx_in_the_api(tenant_a, clients, in_tenant_a):
    admin, anonymous = clients
    failures = []
    for url, params in sorted(_api_list_endpoints()):
        params = params or ["search"]
        failures += _crawl(admin, url, params)
        failures += _crawl(anonymous, url, params)
    assert not failures, failures
