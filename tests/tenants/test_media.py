"""Uploads under /media/ (#16 item 7): only an organisation's own logo, on its own hosts; other
uploads (diagnostics files) never by path, on any host, in any setting."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.accounts.models import Role
from apps.tenants.models import Organization


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def alpha_logo(tenant_a, media_root):
    name = default_storage.save("logos/alpha.png", ContentFile(b"\x89PNG alpha logo"))
    Organization.objects.filter(pk=tenant_a.pk).update(logo=name)
    return name


@pytest.fixture
def diagnostics_file(media_root):
    return default_storage.save("diagnostics/alpha-station-log.tar.gz", ContentFile(b"card numbers, addresses"))


@pytest.mark.django_db
def test_an_organisation_serves_its_own_logo(alpha_logo, client_a):
    response = client_a.get(f"/media/{alpha_logo}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\x89PNG alpha logo"


@pytest.mark.django_db
def test_another_organisations_host_does_not_serve_it(alpha_logo, client_b):
    assert client_b.get(f"/media/{alpha_logo}").status_code == 404


@pytest.mark.django_db
def test_no_other_upload_is_served_by_path_on_any_host(
    alpha_logo, diagnostics_file, client_a, client_b, tenant_a, make_user, login
):
    admin = login(tenant_a, make_user(tenant_a, role=Role.OPERATOR_ADMIN))
    for client in (client_a, client_b, admin):
        assert client.get(f"/media/{diagnostics_file}").status_code == 404
        assert client.get("/media/../config/settings/base.py").status_code == 404
    assert client_a.post(f"/media/{alpha_logo}").status_code == 405
