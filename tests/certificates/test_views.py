"""Certificate pages: the organisation's CA and a charger's certificates, with roles."""

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.certificates import pki
from apps.certificates import services as certificates
from apps.certificates.models import CertificateAuthority, InstalledCertificate, IssuedCertificate
from tests.certificates.test_pki import ROOT_PEM, make_csr


@pytest.fixture
def cp(make_charge_point):
    return make_charge_point(identity="CP-WEB", ocpp201=True, online=True)


@pytest.fixture
def as_role(tenant_a, make_user, login):
    return lambda role: login(tenant_a, make_user(tenant_a, role=role))


@pytest.fixture
def sent(command_bus):
    """Commands the pages send (action, payload); the charger answers Accepted."""
    return command_bus.sent


def test_ca_page_creates_and_downloads_without_keys(tenant_a, as_role):
    admin = as_role(Role.OPERATOR_ADMIN)
    page = admin.get("/certificates/")
    assert page.status_code == 200 and b"Create the certificate authority" in page.content
    admin.post("/certificates/create/", {"organization_name": "Alpha CPO"})
    with schema_context(tenant_a.schema_name):
        sub = CertificateAuthority.objects.get(kind="station_ca")
    assert sub.organization_name == "Alpha CPO"
    page = admin.get("/certificates/")
    assert b"Alpha CPO ChargingStation CA" in page.content and b"PRIVATE KEY" not in page.content
    pem = admin.get(f"/certificates/ca/{sub.pk}.pem?chain=1")
    assert pem.status_code == 200 and pem.content.count(b"BEGIN CERTIFICATE") == 2
    assert b"PRIVATE" not in pem.content
    # Staff read, only admins create.
    assert as_role(Role.TECHNICIAN).get("/certificates/").status_code == 200
    assert as_role(Role.TECHNICIAN).post("/certificates/create/", {"kind": "v2g"}).status_code == 403
    assert as_role(Role.DRIVER).get("/certificates/").status_code == 403


def test_charger_page_and_commands(tenant_a, cp, as_role, sent):
    tech = as_role(Role.TECHNICIAN)
    assert tech.get("/chargers/CP-WEB/certificates/").status_code == 200
    tech.post("/chargers/CP-WEB/certificates/install/", {"source": "csms_root"})
    tech.post("/chargers/CP-WEB/certificates/install/", {"certificate_type": "MORootCertificate", "pem": ROOT_PEM})
    tech.post("/chargers/CP-WEB/certificates/install/", {"certificate_type": "MORootCertificate", "pem": "nope"})
    tech.post("/chargers/CP-WEB/certificates/refresh/")
    tech.post("/chargers/CP-WEB/certificates/renew/")
    actions = [a for a, _ in sent]
    assert actions == ["InstallCertificate", "InstallCertificate", "GetInstalledCertificateIds", "TriggerMessage"]
    assert sent[0][1]["certificateType"] == "CSMSRootCertificate" and "BEGIN CERTIFICATE" in sent[0][1]["certificate"]
    assert sent[1][1]["certificateType"] == "MORootCertificate"
    assert sent[3][1] == {"requestedMessage": "SignChargingStationCertificate"}
    with schema_context(tenant_a.schema_name):
        row = InstalledCertificate.objects.create(
            charge_point=cp,
            certificate_type="MORootCertificate",
            hash_algorithm="SHA256",
            issuer_name_hash="aa",
            issuer_key_hash="bb",
            serial_number="1",
        )
    tech.post(f"/chargers/CP-WEB/certificates/{row.pk}/delete/")
    assert sent[-1] == ("DeleteCertificate", {"certificateHashData": row.hash_data()})
    assert as_role(Role.FINANCE).post("/chargers/CP-WEB/certificates/refresh/").status_code == 403


def test_revoke_is_for_admins(tenant_a, cp, as_role, django_capture_on_commit_callbacks):
    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=False):
        issued_id = certificates.certificate_sign_request(charge_point_id=cp.pk, csr=make_csr(cn="CP-WEB")).issued_id
    assert as_role(Role.TECHNICIAN).post(f"/certificates/issued/{issued_id}/revoke/").status_code == 403
    admin = as_role(Role.OPERATOR_ADMIN)
    page = admin.get("/chargers/CP-WEB/certificates/")
    assert b"Revoke" in page.content
    admin.post(f"/certificates/issued/{issued_id}/revoke/", {"reason": "stolen"})
    with schema_context(tenant_a.schema_name):
        issued = IssuedCertificate.objects.get(pk=issued_id)
    assert issued.revoked and issued.revocation_reason == "stolen"
    listing = admin.get("/certificates/")
    assert issued.serial_number[:15].encode() in listing.content and b"revoked" in listing.content
    pem = admin.get(f"/certificates/issued/{issued_id}.pem")
    assert pki.serial_hex(pki.load_certificates(pem.content.decode())[0].serial_number) == issued.serial_number


def test_other_organisation_cannot_see_ours(tenant_a, tenant_b, cp, make_user, login):
    with schema_context(tenant_a.schema_name):
        ca = certificates.ca_ensure().root
    other = login(tenant_b, make_user(tenant_b, role=Role.OPERATOR_ADMIN))
    response = other.get(f"/certificates/ca/{ca.pk}.pem")
    assert response.status_code == 404 or ca.certificate_pem.strip().encode() not in response.content
    assert other.get("/chargers/CP-WEB/certificates/").status_code == 404
