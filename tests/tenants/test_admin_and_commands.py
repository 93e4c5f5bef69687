import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import Role, User
from apps.tenants.models import Organization


@pytest.fixture
def platform_client(db):
    with schema_context("public"):
        staff = User.objects.create_superuser("root@platform.example", "pw-123456789")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.django_db
def test_platform_staff_create_an_organization_in_the_admin(
    platform_client, reseller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = platform_client.post(
            "/admin/tenants/organization/add/",
            {
                "name": "Echo Energy",
                "slug": "echo",
                "kind": "operator",
                "parent": reseller.pk,
                "legal_name": "Echo Energy AG",
                "country": "CH",
                "currency": "CHF",
                "timezone": "Europe/Zurich",
                "primary_colour": "#112233",
                "admin_email": "chief@echo.example",
                "admin_name": "Chief",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    echo = Organization.objects.get(slug="echo")
    assert echo.parent == reseller and echo.currency == "CHF"
    assert echo.domains.get().domain == "echo.localhost"
    assert mail.outbox[0].to == ["chief@echo.example"]
    with schema_context(echo.schema_name):
        assert User.objects.get().role == Role.OPERATOR_ADMIN


@pytest.mark.django_db
def test_platform_admin_lists_and_suspends_organizations(platform_client, tenant_b):
    listing = platform_client.get("/admin/tenants/organization/")
    assert listing.status_code == 200 and "Beta Power" in listing.content.decode()
    platform_client.post("/admin/tenants/organization/", {"action": "suspend", "_selected_action": [tenant_b.pk]})
    tenant_b.refresh_from_db()
    assert tenant_b.status == Organization.Status.SUSPENDED


@pytest.mark.django_db
def test_tenant_users_cannot_use_the_platform_admin(tenant_a, make_user):
    make_user(tenant_a, email="admin2@alpha.example", role=Role.OPERATOR_ADMIN)
    client = Client(HTTP_HOST="localhost")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin2@alpha.example", "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 200  # form redisplayed: no such user in the public schema
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_create_organization_command(capsys):
    call_command(
        "create_organization",
        "foxtrot",
        "Foxtrot Fleet",
        "ops@foxtrot.example",
        "--currency",
        "GBP",
        "--country",
        "GB",
        "--timezone",
        "Europe/London",
    )
    org = Organization.objects.get(slug="foxtrot")
    assert org.currency == "GBP" and org.primary_domain.domain == "foxtrot.localhost"
    assert "invitation sent to ops@foxtrot.example" in capsys.readouterr().out
    with pytest.raises(CommandError, match="slug"):
        call_command("create_organization", "foxtrot", "Again", "x@foxtrot.example")


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_has_every_role(capsys):
    call_command("seed_demo", "--password", "demo-pass-123")
    call_command("seed_demo", "--password", "demo-pass-123")
    demo = Organization.objects.get(slug="demo")
    assert demo.primary_domain.domain == "demo.localhost"
    assert demo.parent.slug == "demo-reseller"
    with schema_context(demo.schema_name):
        roles = set(User.objects.values_list("role", flat=True))
        assert User.objects.get(email="admin@demo.localhost").check_password("demo-pass-123")
    assert roles == {Role.OPERATOR_ADMIN, Role.OPERATOR_STAFF, Role.TECHNICIAN, Role.FINANCE, Role.DRIVER}
    # The demo network the simulator of `make run` plays.
    from apps.chargers.models import ChargePoint
    from apps.charging.models import IdToken
    from apps.csms.services import csms_settings_get

    with schema_context(demo.schema_name):
        chargers = ChargePoint.objects.filter(identity__startswith="SIM-")
        # SIM-0001..3 play OCPP 1.6, SIM-0004 2.0.1 and SIM-0005 2.1 (Procfile.dev).
        assert sorted(chargers.values_list("identity", flat=True)) == [f"SIM-000{n}" for n in range(1, 6)]
        assert all(cp.location.name == "Demo Depot" for cp in chargers)
        assert IdToken.objects.filter(id_token__startswith="SIM-TAG-").count() == 4
        assert IdToken.objects.get(id_token="DEMO-DRIVER-1").owner.email == "driver@demo.localhost"
        assert csms_settings_get().unknown_identity_policy == "accept"
    out = capsys.readouterr().out
    assert "admin@demo.localhost" in out and "http://demo.localhost:8000/" in out
    # The demo admin can sign in through the real login page.
    client = Client(HTTP_HOST="demo.localhost")
    response = client.post("/accounts/login/", {"username": "admin@demo.localhost", "password": "demo-pass-123"})
    assert response.status_code == 302
