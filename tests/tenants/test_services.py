import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import Role, User
from apps.tenants.models import Domain, Organization
from apps.tenants.services import organization_create, organization_set_status


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cur.fetchone() is not None


@pytest.mark.django_db
def test_organization_create_makes_schema_domain_and_invited_admin(django_capture_on_commit_callbacks, reseller):
    with django_capture_on_commit_callbacks(execute=True):
        org = organization_create(
            name="Gamma Grid",
            slug="gamma",
            kind="operator",
            parent=reseller,
            admin_email="Boss@Gamma.example",
            admin_name="Gina Boss",
            currency="CHF",
            country="CH",
            timezone="Europe/Zurich",
        )

    assert org.schema_name == "org_gamma"
    assert _schema_exists("org_gamma")
    assert Domain.objects.get(tenant=org, is_primary=True).domain == "gamma.localhost"
    assert org.parent == reseller
    with schema_context(org.schema_name):
        admin = User.objects.get()
        assert admin.email == "boss@gamma.example"
        assert admin.role == Role.OPERATOR_ADMIN
        assert not admin.has_usable_password()
        assert admin.is_staff

    # The invitation e-mail carries a link to the organisation's own domain...
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@gamma.example"]
    assert "Gamma Grid" in message.subject
    link = re.search(r"https?://\S+", message.body).group(0)
    assert link.startswith("http://gamma.localhost:8000/accounts/invitation/")

    # ...and following it sets a password and signs the admin in.
    client = Client(HTTP_HOST="gamma.localhost")
    path = link.split("gamma.localhost:8000")[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-long-new-password-1", "new_password2": "a-long-new-password-1"}
    )
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    with schema_context(org.schema_name):
        assert User.objects.get().check_password("a-long-new-password-1")
    # The token is single-use.
    assert "no longer valid" in Client(HTTP_HOST="gamma.localhost").get(path, follow=True).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "alpha"}, "slug"),  # taken
        ({"currency": "EUX"}, "currency"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"country": "germany"}, "country"),
        ({"kind": "platform"}, "kind"),
    ],
)
def test_organization_create_rejects_bad_input_and_leaves_nothing(overrides, field):
    before = Organization.objects.count()
    data = {"name": "X", "slug": "xray", "admin_email": "a@x.example", **overrides}
    with pytest.raises(ValidationError) as info:
        organization_create(**data)
    assert field in info.value.message_dict
    assert Organization.objects.count() == before
    assert not _schema_exists("org_xray")


@pytest.mark.django_db
def test_operator_under_operator_is_refused(tenant_b):
    with pytest.raises(ValidationError) as info:
        organization_create(name="Sub", slug="sub", admin_email="a@sub.example", parent=tenant_b)
    assert "parent" in info.value.message_dict


@pytest.mark.django_db
def test_suspended_organization_gets_a_clear_page(tenant_a, client_a):
    organization_set_status(organization=tenant_a, status=Organization.Status.SUSPENDED)
    response = client_a.get("/accounts/login/")
    assert response.status_code == 403
    assert "Alpha Charging is suspended" in response.content.decode()
    response = client_a.get("/api/v1/me/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_unknown_host_gets_a_clear_page():
    response = Client(HTTP_HOST="nobody.localhost").get("/")
    assert response.status_code == 404
    assert "No organisation here" in response.content.decode()


@pytest.mark.django_db
def test_platform_cannot_be_suspended():
    platform = Organization.objects.get(schema_name="public")
    with pytest.raises(ValidationError):
        organization_set_status(organization=platform, status=Organization.Status.SUSPENDED)
