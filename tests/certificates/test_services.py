"""The organisation CA and the certificate services, against the test database."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.certificates import pki, selectors
from apps.certificates import services as certificates
from apps.certificates.models import CertificateAuthority, InstalledCertificate, IssuedCertificate
from apps.chargers.models import ChargePoint, ChargerEvent
from tests.certificates.test_pki import ROOT_PEM, make_csr


@pytest.fixture
def cp(in_tenant_a, make_charge_point):
    return make_charge_point(identity="CP-1")


def sign(cp, **kw):
    kw.setdefault("csr", make_csr(cn=cp.identity))
    return certificates.certificate_sign_request(charge_point_id=cp.pk, **kw)


# --------------------------------------------------------------------------- the CA


def test_ca_is_created_once_with_encrypted_keys(in_tenant_a):
    pair = certificates.ca_ensure()
    again = certificates.ca_ensure(organization_name="ignored once it exists")
    assert (again.root.pk, again.signing.pk) == (pair.root.pk, pair.signing.pk)
    assert CertificateAuthority.objects.count() == 2
    root, sub = pair.root, pair.signing
    assert (root.kind, sub.kind, sub.parent_id) == ("root", "station_ca", root.pk)
    assert root.organization_name == "Alpha Charging"
    assert "CN=Alpha Charging ChargingStation CA" in sub.subject and sub.issuer == root.subject
    # The key is stored encrypted, and decrypts to the key of the certificate.
    assert "PRIVATE KEY" not in sub.private_key_encrypted
    stored = CertificateAuthority.objects.get(pk=sub.pk)
    key = certificates.ca_private_key(stored)
    assert key.public_key() == certificates.ca_certificate(stored).public_key()
    certificates.ca_certificate(sub).verify_directly_issued_by(certificates.ca_certificate(root))
    assert root.serial_number == pki.serial_hex(certificates.ca_certificate(root).serial_number)
    assert len(root.fingerprint_sha256) == 64 and root.not_after > timezone.now() + timedelta(days=3650)


def test_a_changed_encryption_key_is_reported(in_tenant_a, settings):
    sub = certificates.ca_ensure().signing
    settings.FIELD_ENCRYPTION_KEY = "Q2hhbmdlZC1rZXktMzItYnl0ZXMtbG9uZy0tLS0tLS0="
    with pytest.raises(certificates.CertificateError, match="FIELD_ENCRYPTION_KEY"):
        certificates.ca_private_key(CertificateAuthority.objects.get(pk=sub.pk))


def test_each_organisation_has_its_own_ca(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        a = certificates.ca_ensure().root
    with schema_context(tenant_b.schema_name):
        b = certificates.ca_ensure().root
        assert CertificateAuthority.objects.filter(fingerprint_sha256=a.fingerprint_sha256).count() == 0
    assert (a.organization_name, b.organization_name) == ("Alpha Charging", "Beta Power")


# --------------------------------------------------------------------------- signing


def test_sign_accepted_issues_and_queues_delivery(cp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sign(cp, request_id=5)
    assert result.answer() == {"status": "Accepted"}
    issued = IssuedCertificate.objects.get(pk=result.issued_id)
    assert (issued.charge_point_id, issued.identity, issued.status) == (cp.pk, "CP-1", "pending")
    assert issued.certificate_type == "ChargingStationCertificate" and issued.request_id == 5
    assert len(callbacks) == 1  # the CertificateSigned delivery, after commit
    chain = pki.load_certificates(certificates.certificate_chain(issued))
    assert len(chain) == 2 and pki.serial_hex(chain[0].serial_number) == issued.serial_number
    pki.verify_chain(chain, certificates.ca_certificate(certificates.active_ca("root")))
    event = ChargerEvent.objects.get(charge_point=cp, kind="SignCertificate")
    assert event.status == "Accepted" and event.payload["issuedId"] == issued.pk


@pytest.mark.parametrize(
    ("csr", "reason"),
    [
        (lambda: make_csr(cn="CP-OTHER"), "InvalidCSR"),
        (lambda: make_csr(o="Somebody"), "InvalidCSR"),
        (lambda: "garbage", "InvalidCSR"),
    ],
)
def test_sign_rejected_for_a_bad_csr(cp, csr, reason, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sign(cp, csr=csr())
    assert result.status == "Rejected" and result.reason_code == reason
    assert result.answer()["status_info"]["reason_code"] == reason
    assert not IssuedCertificate.objects.exists() and not callbacks
    assert ChargerEvent.objects.get(charge_point=cp, kind="SignCertificate").status == "Rejected"


def test_sign_refused_for_unaccepted_or_unauthenticated_chargers(cp):
    assert sign(cp, registration_status="Pending").reason_code == "NotAccepted"
    ChargePoint.objects.filter(pk=cp.pk).update(security_profile=0)
    assert sign(cp).reason_code == "NoAuthentication"


def test_v2g_needs_an_own_v2g_ca(cp, django_capture_on_commit_callbacks):
    secc = make_csr(cn="DEABCS0001")
    assert sign(cp, csr=secc, certificate_type="V2GCertificate").reason_code == "NotEnabled"
    pair = certificates.v2g_ca_create()
    assert (pair.root.kind, pair.signing.kind) == ("v2g_root", "v2g_ca")
    with django_capture_on_commit_callbacks(execute=False):
        result = sign(cp, csr=secc, certificate_type="V2GCertificate")
    issued = IssuedCertificate.objects.get(pk=result.issued_id)
    chain = pki.load_certificates(certificates.certificate_chain(issued))
    pki.verify_chain(chain, certificates.ca_certificate(pair.root))
    assert (chain[0].not_valid_after_utc - chain[0].not_valid_before_utc).days <= pki.V2G_LEAF_DAYS + 1
    assert sign(cp, certificate_type="V2G20Certificate").reason_code == "NotSupported"


def test_certificate_signed_payload_per_version(cp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued = IssuedCertificate.objects.get(pk=sign(cp, request_id=9).issued_id)
    assert set(certificates.certificate_signed_payload(issued, protocol_version="ocpp1.6")) == {"certificateChain"}
    assert certificates.certificate_signed_payload(issued, protocol_version="ocpp2.0.1")["certificateType"] == (
        "ChargingStationCertificate"
    )
    assert certificates.certificate_signed_payload(issued, protocol_version="ocpp2.1")["requestId"] == 9


def test_delivery_to_an_offline_charger_is_failed(cp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued_id = sign(cp).issued_id
    assert certificates.issued_certificate_deliver(issued_id=issued_id) == "offline"
    issued = IssuedCertificate.objects.get(pk=issued_id)
    assert issued.status == "failed" and "offline" in issued.status_info


# --------------------------------------------------------------------------- answers


def test_certificate_signed_answer_is_recorded(cp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued = IssuedCertificate.objects.get(pk=sign(cp).issued_id)
    payload = {"certificateChain": certificates.certificate_chain(issued)}
    certificates.certificate_command_answered(
        charge_point_id=cp.pk,
        action="CertificateSigned",
        payload=payload,
        answer={"status": "Rejected", "statusInfo": {"reasonCode": "InvalidCert", "additionalInfo": "no"}},
    )
    issued.refresh_from_db()
    assert (issued.status, issued.status_info) == ("rejected", "InvalidCert no") and issued.delivered_at


def _hash(serial, name="aa", key="bb"):
    return {"hashAlgorithm": "SHA256", "issuerNameHash": name, "issuerKeyHash": key, "serialNumber": serial}


def test_installed_list_install_and_delete(cp):
    root = certificates.ca_ensure().root
    # We install our root; the station accepts.
    payload = certificates.install_payload(
        charge_point=cp, certificate_type="CSMSRootCertificate", pem=root.certificate_pem
    )
    assert payload["certificateType"] == "CentralSystemRootCertificate"  # cp is 1.6 by default
    certificates.certificate_command_answered(
        charge_point_id=cp.pk, action="InstallCertificate", payload=payload, answer={"status": "Accepted"}
    )
    ours = InstalledCertificate.objects.get(charge_point=cp)
    assert ours.certificate_type == "CSMSRootCertificate" and not ours.reported and ours.subject == root.subject
    # 2.x list: our root spelled in upper case by the station, plus a manufacturer root.
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version="ocpp2.0.1")
    answer = {
        "status": "Accepted",
        "certificateHashDataChain": [
            {
                "certificateType": "CSMSRootCertificate",
                "certificateHashData": {
                    **ours.hash_data(),
                    "issuerNameHash": ours.issuer_name_hash.upper(),
                    "serialNumber": ours.serial_number.upper(),
                },
            },
            {"certificateType": "ManufacturerRootCertificate", "certificateHashData": _hash("1f")},
        ],
    }
    certificates.certificate_command_answered(
        charge_point_id=cp.pk, action="GetInstalledCertificateIds", payload={}, answer=answer
    )
    rows = {r.certificate_type: r for r in InstalledCertificate.objects.filter(charge_point=cp)}
    assert set(rows) == {"CSMSRootCertificate", "ManufacturerRootCertificate"}
    assert rows["CSMSRootCertificate"].reported and rows["CSMSRootCertificate"].subject == root.subject
    # Kept in the station's spelling, for DeleteCertificate.
    assert rows["CSMSRootCertificate"].issuer_name_hash == ours.issuer_name_hash.upper()
    # Asked about manufacturer roots only, NotFound: only those go.
    certificates.certificate_command_answered(
        charge_point_id=cp.pk,
        action="GetInstalledCertificateIds",
        payload={"certificateType": ["ManufacturerRootCertificate"]},
        answer={"status": "NotFound"},
    )
    assert list(InstalledCertificate.objects.values_list("certificate_type", flat=True)) == ["CSMSRootCertificate"]
    # Deleted (matched ignoring case and leading zeros).
    certificates.certificate_command_answered(
        charge_point_id=cp.pk,
        action="DeleteCertificate",
        payload={"certificateHashData": ours.hash_data()},
        answer={"status": "Accepted"},
    )
    assert not InstalledCertificate.objects.exists()


def test_v16_installed_list_has_one_type_per_request(cp):
    certificates.certificate_command_answered(
        charge_point_id=cp.pk,
        action="GetInstalledCertificateIds",
        payload={"certificateType": "CentralSystemRootCertificate"},
        answer={"status": "Accepted", "certificateHashData": [_hash("01"), _hash("02")]},
    )
    assert set(InstalledCertificate.objects.values_list("certificate_type", "serial_number")) == {
        ("CSMSRootCertificate", "01"),
        ("CSMSRootCertificate", "02"),
    }


def test_install_payload_refuses_bad_pem(cp):
    with pytest.raises(certificates.CertificateError):
        certificates.install_payload(charge_point=cp, certificate_type="CSMSRootCertificate", pem="nope")
    with pytest.raises(certificates.CertificateError, match="one certificate"):
        certificates.install_payload(charge_point=cp, certificate_type="CSMSRootCertificate", pem=ROOT_PEM * 2)


# --------------------------------------------------------------------------- revocation and status


def test_status_of_our_certificates_and_revocation(cp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued = IssuedCertificate.objects.get(pk=sign(cp).issued_id)
    leaf = pki.load_certificates(issued.certificate_pem)[0]
    issuer = certificates.ca_certificate(issued.issuer)
    data = pki.hash_data(leaf, issuer)
    status, next_update, der = certificates.certificate_status(hash_data=data)
    assert status == "Good" and next_update > timezone.now()
    response = ocsp.load_der_ocsp_response(der)
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    issuer.public_key().verify(
        response.signature, response.tbs_response_bytes, ec.ECDSA(response.signature_hash_algorithm)
    )
    certificates.issued_certificate_revoke(issued=issued, reason="key compromise")
    first = IssuedCertificate.objects.get(pk=issued.pk).revoked_at
    certificates.issued_certificate_revoke(issued=issued, reason="again")
    assert IssuedCertificate.objects.get(pk=issued.pk).revoked_at == first
    status, _, der = certificates.certificate_status(hash_data={**data, "serialNumber": data["serialNumber"].upper()})
    assert status == "Revoked"
    assert ocsp.load_der_ocsp_response(der).certificate_status == ocsp.OCSPCertStatus.REVOKED
    # Not ours and no responderURL: no status could be obtained ("Unknown" is what a responder says).
    assert certificates.certificate_status(hash_data=_hash("abc")) == ("Failed", None, None)


def test_expiring_lists_the_newest_certificate_per_charger(cp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        old = IssuedCertificate.objects.get(pk=sign(cp).issued_id)
    IssuedCertificate.objects.filter(pk=old.pk).update(not_after=timezone.now() + timedelta(days=5))
    assert [r["name"] for r in selectors.certificates_expiring(days=30)] == ["CP-1"]
    with django_capture_on_commit_callbacks(execute=False):
        sign(cp)  # renewed: a year ahead
    assert selectors.certificates_expiring(days=30) == []


def test_renewal_trigger_per_version(cp):
    assert certificates.renewal_trigger(charge_point=cp) == (
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
    )
    cp.protocol_version = "ocpp2.0.1"
    assert certificates.renewal_trigger(charge_point=cp, certificate_type="V2GCertificate") == (
        "TriggerMessage",
        {"requestedMessage": "SignV2GCertificate"},
    )


def test_report_expiring_task_logs_per_organisation(cp, django_capture_on_commit_callbacks, caplog):
    from apps.certificates.tasks import report_expiring

    with django_capture_on_commit_callbacks(execute=False):
        issued_id = sign(cp).issued_id
    IssuedCertificate.objects.filter(pk=issued_id).update(not_after=timezone.now() + timedelta(days=3))
    assert report_expiring(days=30) >= 1
    assert any("CP-1" in r.getMessage() for r in caplog.records)
