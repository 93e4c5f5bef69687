"""Each role sees only what it may, on pages and through the API alike."""

import pytest

from apps.accounts.models import Role

PAGES = ["/users/", "/users/invite/", "/organization/"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, dashboard, admin_pages",
    [
        (Role.OPERATOR_ADMIN, 200, 200),
        (Role.OPERATOR_STAFF, 200, 403),
        (Role.TECHNICIAN, 200, 403),
        (Role.FINANCE, 200, 403),
    ],
)
def test_operator_roles_on_pages_and_api(tenant_a, make_user, login, role, dashboard, admin_pages):
    user = make_user(tenant_a, role=role)
    client = login(tenant_a, user)
    response = client.get("/")
    assert response.status_code == dashboard
    assert "Active users" in response.content.decode()
    for page in PAGES:
        assert client.get(page).status_code == admin_pages, page
    api = client.get("/api/v1/users/")
    assert api.status_code == admin_pages
    # Everyone manages their own API tokens.
    assert client.get("/account/tokens/").status_code == 200
    assert client.get("/api/v1/api-tokens/").status_code == 200


@pytest.mark.django_db
def test_driver_gets_their_own_page_and_nothing_of_the_operator(tenant_a, make_user, login):
    driver = make_user(tenant_a, role=Role.DRIVER, full_name="Dora Driver")
    client = login(tenant_a, driver)
    home = client.get("/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "Hello Dora" in body and "Active users" not in body
    for page in PAGES:
        assert client.get(page).status_code == 403
    assert client.get("/api/v1/users/").status_code == 403
    assert client.get("/admin/").status_code == 302  # not staff: admin sends to its login


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_and_api_says_401(client_a):
    response = client_a.get("/users/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    api = client_a.get("/api/v1/users/")
    assert api.status_code == 401
    assert api.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_operator_admin_reaches_their_django_admin_without_platform_models(tenant_a, make_user, login):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    client = login(tenant_a, admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha Charging" in body
    assert "/admin/accounts/user/" in body
    # Organisations and schedules are platform business, not on an operator's admin.
    assert "/admin/tenants/" not in body and "django_celery_beat" not in body
    assert client.get("/admin/tenants/organization/").status_code == 404


@pytest.mark.django_db
def test_reseller_admin_sees_and_creates_their_operators(reseller, tenant_a, make_user, login):
    admin = make_user(reseller, role=Role.RESELLER_ADMIN)
    client = login(reseller, admin)
    page = client.get("/organizations/")
    assert page.status_code == 200
    assert "Alpha Charging" in page.content.decode()  # its child
    assert "Beta Power" not in page.content.decode()  # not its child
    response = client.post(
        "/organizations/",
        {
            "name": "Delta Volt",
            "slug": "delta",
            "admin_email": "admin@delta.example",
            "country": "AT",
            "currency": "EUR",
            "timezone": "Europe/Vienna",
        },
    )
    assert response.status_code == 302
    from apps.tenants.models import Organization

    delta = Organization.objects.get(slug="delta")
    assert delta.parent == reseller and delta.kind == "operator"


@pytest.mark.django_db
def test_operator_admin_cannot_open_reseller_pages(tenant_a, make_user, login):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    assert login(tenant_a, admin).get("/organizations/").status_code == 403
