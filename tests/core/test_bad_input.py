"""Bad input is a 400, never a 500 (issue #16 item 4): the reported requests, one by one.
The generated crawl over every list page and API endpoint is tests/core/test_crawl_garbage.py."""

import pytest
from django.test import Client

from apps.accounts.models import Role
from tests.conftest import host_of

NUL_REQUESTS = [
    "/c/AB%00CD/",
    "/payments/status/ref%00x/",
    "/chargers/?q=a%00b",
    "/payments/?kind=%00",
    "/tariffs/?charger_group=%00",
    "/api/v1/charge-points/?search=%00",
    "/accounts/login/?next=%00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", NUL_REQUESTS)
def test_a_nul_character_in_path_or_query_is_a_400_for_anyone(tenant_a, url):
    # PostgreSQL text cannot hold NUL: refused before any view sees it.
    response = Client(HTTP_HOST=host_of(tenant_a), raise_request_exception=False).get(url)
    assert response.status_code == 400
    assert b"Traceback" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", NUL_REQUESTS)
def test_a_nul_character_is_a_400_for_a_signed_in_operator(tenant_a, make_user, login, url):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    client.raise_request_exception = False
    assert client.get(url).status_code == 400


@pytest.mark.django_db
def test_the_api_answers_a_nul_in_its_error_format(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    response = client.get("/api/v1/charge-points/?search=%00")
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


OFFSET_REQUESTS = [
    "/api/v1/charge-points/?last_seen__gte=2000-01-01T00:00:00%2B21:06",
    "/api/v1/charge-points/?last_seen__lte=2000-01-01T00:00:00-16:00",
    "/api/v1/users/?date_joined__gte=2000-01-01T00:00:00%2B21:06",
    "/api/v1/id-tokens/?expires_at__lte=2000-01-01T00:00:00%2B16:00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", OFFSET_REQUESTS)
def test_a_utc_offset_outside_postgresqls_range_is_a_validation_error(tenant_a, make_user, login, url):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_the_message_log_since_and_until_refuse_such_offsets(tenant_a, make_user, login, charge_point):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    client.raise_request_exception = False
    base = f"/api/v1/charge-points/{charge_point.identity}/messages/"
    for query in ("since=2000-01-01T00:00:00%2B21:06", "until=2000-01-01T00:00:00-20:00"):
        assert client.get(f"{base}?{query}").status_code == 400


@pytest.mark.django_db
def test_offsets_within_the_range_still_filter(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    assert client.get("/api/v1/charge-points/?last_seen__gte=2000-01-01T00:00:00%2B15:59").status_code == 200
    assert client.get("/api/v1/charge-points/?last_seen__gte=2000-01-01T00:00:00-15:59").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["location=abc", "location=1e309", "location=99999999999999999999999", "date_from=2000-13-45"]
)
def test_the_sessions_page_answers_a_filter_that_does_not_parse_with_400(tenant_a, make_user, login, query):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    client.raise_request_exception = False
    for url in ("/sessions/", "/sessions/export.csv"):
        assert client.get(f"{url}?{query}").status_code == 400


@pytest.mark.django_db
def test_the_sessions_page_still_filters_by_a_numeric_location(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    assert client.get("/sessions/?location=1").status_code == 200


@pytest.mark.django_db
def test_a_page_form_refuses_an_offset_postgresql_cannot_store_as_a_form_error(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    client.raise_request_exception = False
    response = client.post("/account/tokens/", {"name": "t", "expires_at": "2030-01-01T00:00:00+21:06"})
    assert response.status_code == 200
    assert "UTC offset" in response.content.decode()
