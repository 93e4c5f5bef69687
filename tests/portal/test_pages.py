import re

import pytest
from django.core import mail
from django.test import Client

from apps.accounts.models import Role
from tests.conftest import host_of


@pytest.mark.django_db
def test_dashboard_shows_real_figures_and_branding(tenant_a, make_user, login):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    for _ in range(3):
        make_user(tenant_a, role=Role.DRIVER)
    tenant_a.primary_colour = "#ff6600"
    tenant_a.save(update_fields=["primary_colour"])
    body = login(tenant_a, admin).get("/").content.decode()
    drivers = re.search(r'data-figure="drivers">(\d+)<', body).group(1)
    assert drivers == "3"
    assert "--brand: #ff6600" in body
    assert "Alpha Charging" in body
    assert '<svg class="chart"' in body


@pytest.mark.django_db
def test_invite_through_portal_then_accept(tenant_a, make_user, login, django_capture_on_commit_callbacks):
    admin = make_user(tenant_a, role=Role.OPERATOR_ADMIN)
    client = login(tenant_a, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/users/invite/", {"email": "newbie@alpha.example", "full_name": "New Bie", "role": "finance"}
        )
    assert response.status_code == 302
    listing = client.get("/users/").content.decode()
    assert "newbie@alpha.example" in listing and "Invited" in listing
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert host_of(tenant_a) in link
    newbie = Client(HTTP_HOST=host_of(tenant_a))
    page = newbie.get(link.split(host_of(tenant_a))[1], follow=True)
    assert "newbie@alpha.example" in page.content.decode()
    response = newbie.post(
        page.redirect_chain[-1][0], {"new_password1": "finance-rules-42", "new_password2": "finance-rules-42"}
    )
    assert response.status_code == 302
    assert "Active users" in newbie.get("/").content.decode()


@pytest.mark.django_db
def test_operator_cannot_invite_reseller_admin_or_platform_staff(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    for role in ("reseller_admin", "platform_staff"):
        response = client.post("/users/invite/", {"email": f"{role}@alpha.example", "role": role})
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_branding_settings_are_saved(tenant_a, make_user, login):
    client = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    response = client.post(
        "/organization/",
        {
            "name": "Alpha Charging",
            "country": "DE",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "primary_colour": "#123456",
        },
    )
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.primary_colour == "#123456"
    bad = client.post(
        "/organization/",
        {"name": "A", "country": "DE", "currency": "XYZ", "timezone": "Nowhere", "primary_colour": "#123456"},
    )
    assert bad.status_code == 200 and "ISO 4217" in bad.content.decode()
