import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import Role, User
from tests.conftest import PASSWORD, host_of


@pytest.mark.django_db
def test_login_with_email_and_password_then_logout(tenant_a, make_user):
    make_user(tenant_a, email="ops@alpha.example", role=Role.OPERATOR_STAFF)
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = client.post("/accounts/login/", {"username": "ops@alpha.example", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


@pytest.mark.django_db
def test_user_of_one_organization_cannot_sign_in_on_another(tenant_a, tenant_b, make_user):
    make_user(tenant_a, email="ops@alpha.example")
    client = Client(HTTP_HOST=host_of(tenant_b))
    response = client.post("/accounts/login/", {"username": "ops@alpha.example", "password": PASSWORD})
    assert response.status_code == 200
    assert "enter a correct" in response.content.decode().lower()


@pytest.mark.django_db
def test_session_of_one_organization_is_worthless_on_another(tenant_a, tenant_b, make_user, login):
    user = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    client = login(tenant_a, user)
    assert client.get("/users/").status_code == 200
    # Same cookie jar, other organisation's host: that session does not exist there.
    response = client.get("/users/", HTTP_HOST=host_of(tenant_b))
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_from_that_address(tenant_a, make_user):
    make_user(tenant_a, email="target@alpha.example")
    client = Client(HTTP_HOST=host_of(tenant_a))
    for _ in range(5):
        client.post("/accounts/login/", {"username": "target@alpha.example", "password": "wrong-password"})
    # Even the right password is refused now.
    response = client.post("/accounts/login/", {"username": "target@alpha.example", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # Another organisation's users are unaffected (attempts are per schema).


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed", ["Target@alpha.example", "TARGET@ALPHA.EXAMPLE", " target@alpha.example", "target@alpha.example "]
)
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_lockout_holds_whatever_case_or_spaces_the_address_is_typed_with(tenant_a, make_user, typed, path):
    # Sign-in matches the address trimmed and case-insensitively; the lockout must key on
    # the same normalised address, or a locked account signs in as "TARGET@...".
    make_user(tenant_a, email="target@alpha.example", role=Role.OPERATOR_ADMIN)
    client = Client(HTTP_HOST=host_of(tenant_a))
    for _ in range(5):
        client.post(path, {"username": "target@alpha.example", "password": "wrong-password"})
    response = client.post(path, {"username": typed, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_failures_typed_in_different_cases_count_towards_one_lockout(tenant_a, make_user):
    make_user(tenant_a, email="target@alpha.example")
    client = Client(HTTP_HOST=host_of(tenant_a))
    for typed in [
        "target@alpha.example",
        "Target@alpha.example",
        "TARGET@alpha.example",
        " target@Alpha.example",
        "tarGET@alpha.example",
    ]:
        client.post("/accounts/login/", {"username": typed, "password": "wrong-password"})
    response = client.post("/accounts/login/", {"username": "target@alpha.example", "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.django_db
def test_sign_in_accepts_the_address_in_any_case_and_trimmed(tenant_a, make_user):
    make_user(tenant_a, email="ops@alpha.example", role=Role.OPERATOR_STAFF)
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = client.post("/accounts/login/", {"username": "  OPS@Alpha.Example ", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"


def test_login_email_normalise_is_the_one_rule():
    from apps.accounts.identity import login_email_normalise

    assert login_email_normalise("  User@Example.COM\t") == "user@example.com"
    assert login_email_normalise(None) == ""


@pytest.mark.django_db
def test_password_reset_flow(tenant_a, make_user):
    make_user(tenant_a, email="forgetful@alpha.example")
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = client.post("/accounts/password-reset/", {"email": "forgetful@alpha.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert link.startswith(f"http://{host_of(tenant_a)}/accounts/reset/")
    path = link.split(host_of(tenant_a))[1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "brand-new-secret-77", "new_password2": "brand-new-secret-77"})
    assert response.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert User.objects.get(email="forgetful@alpha.example").check_password("brand-new-secret-77")


@pytest.mark.django_db
def test_password_reset_for_unknown_address_reveals_nothing(tenant_a):
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = client.post("/accounts/password-reset/", {"email": "nobody@alpha.example"}, follow=True)
    assert response.status_code == 200
    assert "If an account exists" in response.content.decode()
    assert mail.outbox == []
