"""The public log upload target: PUT and multipart POST, file name appended or not,
wrong / expired / used token, size limit, tenants kept apart."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.chargers.services import charge_point_create
from apps.diagnostics import services as diag
from apps.diagnostics.models import LogRequest


@pytest.fixture
def log_request(in_tenant_a):
    cp = charge_point_create(identity="CP-UP", password="a-good-charger-password", protocol_version="ocpp2.0.1")
    return diag.log_request_create(charge_point=cp, log_type="DiagnosticsLog")


def path_of(lr: LogRequest, suffix: str = "") -> str:
    return f"/diagnostics/upload/{lr.token}/{suffix}"


def test_remote_location_is_on_the_organisation_domain(log_request, tenant_a):
    assert log_request.remote_location.startswith(f"http://{tenant_a.primary_domain.domain}")
    assert log_request.remote_location.endswith(path_of(log_request))


def test_put_raw_file(client_a, log_request, tenant_a):
    body = b"2026-11-25 10:00 boot\n" * 100
    response = client_a.put(path_of(log_request), body, content_type="application/octet-stream")
    assert response.status_code == 201, response.content
    log_request.refresh_from_db()
    assert log_request.uploaded_at and log_request.file_size == len(body)
    assert log_request.file_name == f"CP-UP-diagnostics-{log_request.request_id}.log"
    assert log_request.file.read() == body
    # Under the organisation's schema and the charger: the default storage is shared.
    assert log_request.file.name.startswith(f"diagnostics/{tenant_a.schema_name}/CP-UP/")


def test_put_with_file_name_appended(client_a, log_request):
    response = client_a.put(path_of(log_request, "station 1.log"), b"abc", content_type="text/plain")
    assert response.status_code == 201
    log_request.refresh_from_db()
    assert (log_request.file_name, log_request.content_type) == ("station_1.log", "text/plain")


def test_multipart_post_with_and_without_file_name_in_the_path(client_a, log_request, in_tenant_a):
    upload = SimpleUploadedFile("diag.tar.gz", b"\x1f\x8b binary", content_type="application/gzip")
    response = client_a.post(path_of(log_request, "diag.tar.gz"), {"file": upload})
    assert response.status_code == 200, response.content
    log_request.refresh_from_db()
    assert (log_request.file_name, log_request.file.read()) == ("diag.tar.gz", b"\x1f\x8b binary")

    other = diag.log_request_create(charge_point=log_request.charge_point, log_type="SecurityLog")
    # No trailing slash, a differently named field: still taken.
    response = client_a.post(f"/diagnostics/upload/{other.token}", {"upload": SimpleUploadedFile("s.log", b"sec")})
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.file_name == "s.log" and other.file_size == 3


def test_multipart_without_a_file_is_a_bad_request(client_a, log_request):
    assert client_a.post(path_of(log_request), {"note": "hi"}).status_code == 400


def test_wrong_token_is_not_found(client_a, log_request):
    assert client_a.put("/diagnostics/upload/" + "x" * 43 + "/", b"abc").status_code == 404
    assert client_a.put("/diagnostics/upload/short/", b"abc").status_code == 404


def test_other_methods_are_not_allowed(client_a, log_request):
    assert client_a.get(path_of(log_request)).status_code == 405


def test_expired_token_is_not_found(client_a, log_request):
    LogRequest.objects.filter(pk=log_request.pk).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client_a.put(path_of(log_request), b"abc").status_code == 404


def test_replay_after_completion_is_refused(client_a, log_request):
    assert client_a.put(path_of(log_request), b"first").status_code == 201
    assert client_a.put(path_of(log_request), b"second").status_code == 410
    upload = SimpleUploadedFile("x.log", b"third")
    assert client_a.post(path_of(log_request), {"file": upload}).status_code == 410
    log_request.refresh_from_db()
    assert log_request.file.read() == b"first"


def test_size_limit(client_a, log_request, settings):
    settings.DIAGNOSTICS_UPLOAD_MAX_BYTES = 1000
    assert client_a.put(path_of(log_request), b"x" * 1001).status_code == 413
    big = SimpleUploadedFile("big.log", b"x" * 30000)
    assert client_a.post(path_of(log_request), {"file": big}).status_code == 413
    # Within the declared-length slack of a multipart body, the file itself is measured.
    over = SimpleUploadedFile("over.log", b"x" * 1500)
    assert client_a.post(path_of(log_request), {"file": over}).status_code == 413
    log_request.refresh_from_db()
    assert log_request.uploaded_at is None
    assert client_a.put(path_of(log_request), b"x" * 1000).status_code == 201


def test_a_token_only_works_on_its_own_organisation(client_b, log_request, tenant_b):
    assert client_b.put(path_of(log_request), b"abc").status_code == 404
    with schema_context(tenant_b.schema_name):
        assert not LogRequest.objects.exists()
