import pytest
from django.core.management import call_command
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken, Role, User
from apps.accounts.services import api_token_create, api_token_revoke
from tests.conftest import host_of


def _token(org, user, **kwargs):
    with schema_context(org.schema_name):
        return api_token_create(user=user, name="test", **kwargs)


def _api(org, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return Client(HTTP_HOST=host_of(org), **headers)


@pytest.mark.django_db
def test_token_authenticates_and_is_stored_hashed(tenant_a, make_user):
    user = make_user(tenant_a, role=Role.OPERATOR_ADMIN, email="bot@alpha.example")
    token, key = _token(tenant_a, user)
    assert key.startswith("evz_") and key not in token.digest
    response = _api(tenant_a, key).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "bot@alpha.example"
    assert body["organization"]["slug"] == "alpha"


@pytest.mark.django_db
def test_revoked_expired_and_foreign_tokens_are_refused(tenant_a, tenant_b, make_user):
    from datetime import timedelta

    from django.utils import timezone

    user = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    token, key = _token(tenant_a, user)
    # A's token means nothing on B's host: B's schema has no such digest.
    response = _api(tenant_b, key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked token.", "code": "authentication_failed"}
    with schema_context(tenant_a.schema_name):
        api_token_revoke(token=token)
    assert _api(tenant_a, key).get("/api/v1/me/").status_code == 401
    _, expired = _token(tenant_a, user, expires_at=timezone.now() - timedelta(minutes=1))
    assert _api(tenant_a, expired).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_deactivating_a_user_revokes_their_tokens(tenant_a, make_user, login):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    worker = make_user(tenant_a, role=Role.OPERATOR_STAFF)
    _, key = _token(tenant_a, worker)
    response = login(tenant_a, admin).patch(
        f"/api/v1/users/{worker.pk}/", {"is_active": False}, content_type="application/json"
    )
    assert response.status_code == 200
    assert _api(tenant_a, key).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_token_lifecycle_through_the_api(tenant_a, make_user, login):
    user = make_user(tenant_a, role=Role.TECHNICIAN)
    client = login(tenant_a, user)
    created = client.post("/api/v1/api-tokens/", {"name": "laptop"}, content_type="application/json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert _api(tenant_a, key).get("/api/v1/me/").status_code == 200
    listed = client.get("/api/v1/api-tokens/").json()
    assert listed["count"] == 1 and "key" not in listed["results"][0]
    assert client.delete(f"/api/v1/api-tokens/{created.json()['id']}/").status_code == 204
    assert _api(tenant_a, key).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_portal_token_page_shows_key_once(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a))
    response = client.post("/account/tokens/", {"name": "ci"})
    body = response.content.decode()
    assert "Copy it now" in body
    key = body.split('id="new-key">')[1].split("<")[0]
    assert _api(tenant_a, key).get("/api/v1/me/").status_code == 200
    assert key not in client.get("/account/tokens/").content.decode()


@pytest.mark.django_db
def test_create_api_token_command_prints_a_working_key(tenant_a, make_user, capsys):
    make_user(tenant_a, email="script@alpha.example", role=Role.OPERATOR_ADMIN)
    call_command("create_api_token", "alpha", "script@alpha.example")
    key = capsys.readouterr().out.strip()
    assert _api(tenant_a, key).get("/api/v1/users/").status_code == 200


@pytest.mark.django_db
def test_admin_invites_lists_filters_and_updates_users(tenant_a, make_user, login, django_capture_on_commit_callbacks):
    from django.core import mail

    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    client = login(tenant_a, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/users/", {"email": "New@Alpha.example", "role": "technician"}, content_type="application/json"
        )
    assert response.status_code == 201, response.json()
    assert response.json()["invitation_pending"] is True
    assert mail.outbox[0].to == ["new@alpha.example"]
    techs = client.get("/api/v1/users/?role=technician").json()
    assert [u["email"] for u in techs["results"]] == ["new@alpha.example"]
    assert client.get("/api/v1/users/?search=new@").json()["count"] == 1
    # Validation errors use the one error format.
    bad = client.post("/api/v1/users/", {"email": "not-an-email", "role": "pilot"}, content_type="application/json")
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"email", "role"}
    dup = client.post(
        "/api/v1/users/", {"email": "new@alpha.example", "role": "driver"}, content_type="application/json"
    )
    assert dup.status_code == 400 and "email" in dup.json()["errors"]
    # Platform staff cannot be created inside an organisation.
    assert (
        client.post(
            "/api/v1/users/", {"email": "x@alpha.example", "role": "platform_staff"}, content_type="application/json"
        ).status_code
        == 400
    )
    # An admin cannot lock themselves out.
    me = client.patch(f"/api/v1/users/{admin.pk}/", {"role": "driver"}, content_type="application/json")
    assert me.status_code == 400


@pytest.mark.django_db
def test_api_cannot_read_or_change_another_organizations_users(tenant_a, tenant_b, make_user, login):
    admin_a = make_user(tenant_a, role=Role.OPERATOR_ADMIN, email="a-admin@alpha.example")
    victim = make_user(tenant_b, role=Role.OPERATOR_STAFF, email="victim@beta.example")
    client = login(tenant_a, admin_a)
    emails = [u["email"] for u in client.get("/api/v1/users/?page_size=500").json()["results"]]
    assert "victim@beta.example" not in emails
    # Same primary key, other schema: the request only ever reaches A's row (or 404).
    response = client.patch(f"/api/v1/users/{victim.pk}/", {"full_name": "Hacked"}, content_type="application/json")
    assert response.status_code in (200, 404)
    with schema_context(tenant_b.schema_name):
        assert User.objects.get(email="victim@beta.example").full_name != "Hacked"
    # Pointing A's session at B's host gets nowhere.
    assert client.get("/api/v1/users/", HTTP_HOST=host_of(tenant_b)).status_code in (401, 403)


@pytest.mark.django_db
def test_openapi_schema_and_docs(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a))
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/users/" in paths and "/api/v1/api-tokens/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_api_token_count_is_isolated(tenant_a, tenant_b, make_user):
    user = make_user(tenant_a)
    _token(tenant_a, user)
    with schema_context(tenant_b.schema_name):
        assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_api_times_stay_utc_while_pages_use_local_time(tenant_a, make_user, login):
    user = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    body = login(tenant_a, user).get("/api/v1/me/").json()
    assert body["date_joined"].endswith("Z")
