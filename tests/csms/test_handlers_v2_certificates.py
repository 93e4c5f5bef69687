"""Block M and A02/A03 handlers: SignCertificate (2.0.1, 2.1 and the 1.6 security extension),
Get15118EVCertificate, GetCertificateStatus, 2.1 GetCertificateChainStatus, and the answers to
InstallCertificate / GetInstalledCertificateIds / DeleteCertificate / CertificateSigned."""

import base64

import pytest
from cryptography.x509 import ocsp

from apps.certificates import pki
from apps.certificates import services as certificates
from apps.certificates.models import InstalledCertificate, IssuedCertificate
from apps.chargers.models import ChargePoint, ChargerEvent
from apps.chargers.services import charge_point_create
from apps.csms.handlers.v2 import V21Session, V201Session
from apps.csms.handlers.v2.certificates import CertificatesV21Mixin
from apps.csms.handlers.v16 import V16Session
from tests.certificates.ocsp_responder import OcspResponder, closed_port_url
from tests.certificates.test_pki import make_csr
from tests.csms.harness import Harness

# The 2.1-only handler, whether or not the session composes it yet.
V21Full = (
    V21Session
    if issubclass(V21Session, CertificatesV21Mixin)
    else type("V21Full", (CertificatesV21Mixin, V21Session), {})
)


@pytest.fixture(params=[V201Session, V21Session], ids=["2.0.1", "2.1"])
def h(request, in_tenant_a):
    cp = charge_point_create(identity="CP-V2", password="a-good-charger-password")
    version = "ocpp2.1" if request.param is V21Session else "ocpp2.0.1"
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version=version)
    cp.refresh_from_db()
    return Harness(cp, request.param)


@pytest.fixture
def h16(in_tenant_a):
    return Harness(charge_point_create(identity="CP-16", password="a-good-charger-password"), V16Session)


def test_sign_certificate_accepted_and_certificate_signed_queued(h, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = h.ok("SignCertificate", {"csr": make_csr(cn="CP-V2"), "certificateType": "ChargingStationCertificate"})
    assert answer == {"status": "Accepted"}
    assert len(callbacks) == 1  # CertificateSigned goes out after the answer, never from the handler
    assert len(h.sent) == 1  # nothing but the answer was written to the socket
    issued = IssuedCertificate.objects.get(charge_point=h.cp)
    payload = certificates.certificate_signed_payload(issued, protocol_version=h.cp.protocol_version)
    assert payload["certificateType"] == "ChargingStationCertificate"
    chain = pki.load_certificates(payload["certificateChain"])
    pki.verify_chain(chain, certificates.ca_certificate(certificates.active_ca("root")))
    assert chain[0].subject.rfc4514_string() == "CN=CP-V2,O=Alpha Charging"


def test_sign_certificate_without_type_and_2_1_request_id(h, django_capture_on_commit_callbacks):
    body = {"csr": make_csr(cn="CP-V2")}
    if h.session.version == "2.1":
        body["requestId"] = 42
    with django_capture_on_commit_callbacks(execute=False):
        assert h.ok("SignCertificate", body) == {"status": "Accepted"}
    issued = IssuedCertificate.objects.get(charge_point=h.cp)
    payload = certificates.certificate_signed_payload(issued, protocol_version=h.cp.protocol_version)
    assert payload.get("requestId") == (42 if h.session.version == "2.1" else None)


@pytest.mark.parametrize(
    ("csr", "reason"),
    [
        (lambda: make_csr(cn="SOMEONE-ELSE"), "InvalidCSR"),
        (lambda: make_csr(cn="CP-V2", o="Wrong Org"), "InvalidCSR"),
        (lambda: "-----BEGIN CERTIFICATE REQUEST-----\ngarbage\n-----END CERTIFICATE REQUEST-----", "InvalidCSR"),
    ],
)
def test_sign_certificate_rejected(h, csr, reason, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = h.ok("SignCertificate", {"csr": csr(), "certificateType": "ChargingStationCertificate"})
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == reason
    assert answer["statusInfo"]["additionalInfo"]
    assert not callbacks and not IssuedCertificate.objects.exists()
    assert ChargerEvent.objects.filter(charge_point=h.cp, kind="SignCertificate", status="Rejected").exists()


def test_v2g_certificate_rejected_without_v2g_ca_then_signed(h, django_capture_on_commit_callbacks):
    body = {"csr": make_csr(cn="DEABCS000000001"), "certificateType": "V2GCertificate"}
    answer = h.ok("SignCertificate", body)
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "NotEnabled"
    certificates.v2g_ca_create()
    with django_capture_on_commit_callbacks(execute=False):
        assert h.ok("SignCertificate", body) == {"status": "Accepted"}
    assert IssuedCertificate.objects.get(charge_point=h.cp).certificate_type == "V2GCertificate"


def test_get_15118_ev_certificate_fails_cleanly(h):
    answer = h.ok(
        "Get15118EVCertificate",
        {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install", "exiRequest": "AAEC"},
    )
    assert answer["status"] == "Failed" and answer["exiResponse"] == "" and answer["statusInfo"]["reasonCode"]


def test_get_certificate_status(h, django_capture_on_commit_callbacks):
    unknown = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "ab" * 32,
        "issuerKeyHash": "cd" * 32,
        "serialNumber": "1234",
        "responderURL": closed_port_url(),
    }
    answer = h.ok("GetCertificateStatus", {"ocspRequestData": unknown})
    assert answer["status"] == "Failed" and "ocspResult" not in answer
    # One of ours: a real OCSP response.
    with django_capture_on_commit_callbacks(execute=False):
        h.ok("SignCertificate", {"csr": make_csr(cn="CP-V2")})
    issued = IssuedCertificate.objects.get(charge_point=h.cp)
    data = pki.hash_data(pki.load_certificates(issued.certificate_pem)[0], certificates.ca_certificate(issued.issuer))
    answer = h.ok("GetCertificateStatus", {"ocspRequestData": {**data, "responderURL": "http://ocsp.example.com"}})
    assert answer["status"] == "Accepted"
    response = ocsp.load_der_ocsp_response(base64.b64decode(answer["ocspResult"]))
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD


def test_get_certificate_status_of_another_pki_asks_its_responder(h):
    with OcspResponder() as responder:
        good, revoked = responder.issue("SECC"), responder.issue("SECC 2")
        responder.revoke(revoked)
        answer = h.ok("GetCertificateStatus", {"ocspRequestData": responder.hash_data(good)})
        assert answer["status"] == "Accepted"
        response = ocsp.load_der_ocsp_response(base64.b64decode(answer["ocspResult"]))
        assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
        assert response.serial_number == good.serial_number
        # A revoked certificate's status was obtained too: Accepted, the station reads it.
        answer = h.ok("GetCertificateStatus", {"ocspRequestData": responder.hash_data(revoked)})
        response = ocsp.load_der_ocsp_response(base64.b64decode(answer["ocspResult"]))
        assert answer["status"] == "Accepted" and response.certificate_status == ocsp.OCSPCertStatus.REVOKED
        assert responder.hits == 2
        responder.http_status = 500
        answer = h.ok("GetCertificateStatus", {"ocspRequestData": responder.hash_data(responder.issue())})
        assert answer["status"] == "Failed" and answer["statusInfo"]["reasonCode"] == "NotFound"


def test_get_certificate_chain_status_2_1_asks_the_ocsp_url(in_tenant_a):
    cp = charge_point_create(identity="CP-21", password="a-good-charger-password")
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version="ocpp2.1")
    h = Harness(cp, V21Full)
    with OcspResponder() as responder:
        leaf = responder.issue()
        responder.revoke(leaf)
        data = {k: v for k, v in responder.hash_data(leaf).items() if k != "responderURL"}
        unknown = {**data, "serialNumber": "abc"}
        answer = h.ok(
            "GetCertificateChainStatus",
            {
                "certificateStatusRequests": [
                    {"certificateHashData": data, "source": "OCSP", "urls": [responder.url]},
                    {"certificateHashData": unknown, "source": "OCSP", "urls": [responder.url]},
                ]
            },
        )
    assert [s["status"] for s in answer["certificateStatus"]] == ["Revoked", "Unknown"]
    assert answer["certificateStatus"][0]["certificateHashData"] == data


def test_get_certificate_chain_status_2_1(in_tenant_a, django_capture_on_commit_callbacks):
    cp = charge_point_create(identity="CP-21", password="a-good-charger-password")
    ChargePoint.objects.filter(pk=cp.pk).update(protocol_version="ocpp2.1")
    h = Harness(cp, V21Full)
    with django_capture_on_commit_callbacks(execute=False):
        h.ok("SignCertificate", {"csr": make_csr(cn="CP-21")})
    issued = IssuedCertificate.objects.get(charge_point=cp)
    ours = pki.hash_data(pki.load_certificates(issued.certificate_pem)[0], certificates.ca_certificate(issued.issuer))
    certificates.issued_certificate_revoke(issued=issued)
    other = {**ours, "serialNumber": "77"}
    answer = h.ok(
        "GetCertificateChainStatus",
        {
            "certificateStatusRequests": [
                {"certificateHashData": ours, "source": "OCSP", "urls": ["http://ocsp.example.com"]},
                {"certificateHashData": other, "source": "CRL", "urls": ["http://crl.example.com/x.crl"]},
            ]
        },
    )
    statuses = answer["certificateStatus"]
    assert [(s["status"], s["source"]) for s in statuses] == [("Revoked", "OCSP"), ("Failed", "CRL")]
    assert statuses[0]["certificateHashData"] == ours and all(s["nextUpdate"] for s in statuses)


def test_command_answers_are_stored(h):
    root = certificates.ca_ensure().root
    payload = certificates.install_payload(
        charge_point=h.cp, certificate_type="CSMSRootCertificate", pem=root.certificate_pem
    )
    assert payload["certificateType"] == "CSMSRootCertificate"
    h.answered("InstallCertificate", payload, {"status": "Accepted"})
    installed = InstalledCertificate.objects.get(charge_point=h.cp)
    assert installed.subject == root.subject
    assert installed.hash_data() == pki.hash_data_for_pem(root.certificate_pem)
    h.answered(
        "GetInstalledCertificateIds",
        {"certificateType": ["CSMSRootCertificate"]},
        {
            "status": "Accepted",
            "certificateHashDataChain": [
                {"certificateType": "CSMSRootCertificate", "certificateHashData": installed.hash_data()}
            ],
        },
    )
    assert InstalledCertificate.objects.get(charge_point=h.cp).reported
    h.answered("DeleteCertificate", {"certificateHashData": installed.hash_data()}, {"status": "Accepted"})
    assert not InstalledCertificate.objects.exists()


def test_certificate_signed_answer_is_stored(h, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        h.ok("SignCertificate", {"csr": make_csr(cn="CP-V2")})
    issued = IssuedCertificate.objects.get(charge_point=h.cp)
    payload = certificates.certificate_signed_payload(issued, protocol_version=h.cp.protocol_version)
    h.answered("CertificateSigned", payload, {"status": "Accepted"})
    assert IssuedCertificate.objects.get(pk=issued.pk).status == "accepted"


# --------------------------------------------------------------------------- 1.6 security extension


def test_v16_sign_certificate(h16, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert h16.ok("SignCertificate", {"csr": make_csr(cn="CP-16")}) == {"status": "Accepted"}
    assert len(callbacks) == 1
    issued = IssuedCertificate.objects.get(charge_point=h16.cp)
    payload = certificates.certificate_signed_payload(issued, protocol_version="ocpp1.6")
    assert list(payload) == ["certificateChain"]
    pki.verify_chain(
        pki.load_certificates(payload["certificateChain"]), certificates.ca_certificate(certificates.active_ca("root"))
    )
    h16.answered("CertificateSigned", payload, {"status": "Accepted"})
    assert IssuedCertificate.objects.get(pk=issued.pk).status == "accepted"
    # No statusInfo in 1.6: a refused CSR is a bare Rejected.
    assert h16.ok("SignCertificate", {"csr": make_csr(cn="CP-OTHER")}) == {"status": "Rejected"}


def test_v16_installed_certificates(h16):
    data = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa", "issuerKeyHash": "bb", "serialNumber": "0c"}
    h16.answered(
        "GetInstalledCertificateIds",
        {"certificateType": "CentralSystemRootCertificate"},
        {"status": "Accepted", "certificateHashData": [data]},
    )
    assert InstalledCertificate.objects.get(charge_point=h16.cp).certificate_type == "CSMSRootCertificate"
    h16.answered("DeleteCertificate", {"certificateHashData": {**data, "serialNumber": "C"}}, {"status": "Accepted"})
    assert not InstalledCertificate.objects.exists()
