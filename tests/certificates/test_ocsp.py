"""The OCSP client (apps.certificates.ocsp) and the contract-certificate verdict, against a real
OCSP responder on 127.0.0.1 (tests/certificates/ocsp_responder.py)."""

import base64
import time
from datetime import timedelta

import pytest
from cryptography.x509 import ocsp as x509_ocsp
from django.test import override_settings

from apps.certificates import ocsp, pki
from apps.certificates import services as certificates
from tests.certificates.ocsp_responder import OcspResponder, closed_port_url


@pytest.fixture
def responder():
    with OcspResponder() as r:
        yield r


def test_good_is_fetched_once_then_cached(responder):
    data = responder.hash_data(responder.issue())
    first = ocsp.status_lookup(data)
    assert first.status == ocsp.GOOD and first.signature_verified
    response = x509_ocsp.load_der_ocsp_response(first.der)
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == int(data["serialNumber"], 16)
    again = ocsp.status_lookup(data)
    assert again.status == ocsp.GOOD and again.der == first.der
    assert responder.hits == 1  # the second answer came from the cache


def test_snake_case_hash_data_and_upper_case_hex(responder):
    data = responder.hash_data(responder.issue())
    snake = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": data["issuerNameHash"].upper(),
        "issuer_key_hash": data["issuerKeyHash"].upper(),
        "serial_number": data["serialNumber"].upper(),
        "responder_url": data["responderURL"],
    }
    assert ocsp.status_lookup(snake).status == ocsp.GOOD


def test_revoked_and_unknown(responder):
    leaf = responder.issue()
    responder.revoke(leaf)
    assert ocsp.status_lookup(responder.hash_data(leaf)).status == ocsp.REVOKED
    stranger = {**responder.hash_data(leaf), "serialNumber": "7ab1"}
    assert ocsp.status_lookup(stranger).status == ocsp.UNKNOWN


def test_cache_lasts_until_next_update(responder):
    responder.next_update = timedelta(seconds=2)
    data = responder.hash_data(responder.issue())
    assert ocsp.status_lookup(data).status == ocsp.GOOD
    assert ocsp.status_lookup(data).status == ocsp.GOOD
    assert responder.hits == 1
    time.sleep(2.2)
    assert ocsp.status_lookup(data).status == ocsp.GOOD
    assert responder.hits == 2


def test_the_cache_key_includes_the_responder_url(responder):
    leaf = responder.issue()
    assert ocsp.status_lookup(responder.hash_data(leaf)).status == ocsp.GOOD
    with OcspResponder() as other:
        other.ca, other.ca_key = responder.ca, responder.ca_key
        other.good.add(leaf.serial_number)
        assert ocsp.status_lookup(responder.hash_data(leaf, url=other.url)).status == ocsp.GOOD
        assert other.hits == 1


def test_unreachable_is_failed_and_cached_briefly():
    data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "ab" * 32,
        "issuerKeyHash": "cd" * 32,
        "serialNumber": "0badcafe",
        "responderURL": closed_port_url(),
    }
    result = ocsp.status_lookup(data)
    assert result.status == ocsp.FAILED and "unreachable" in result.reason
    assert "(cached)" in ocsp.status_lookup(data).reason


def test_http_error_is_failed_and_retried_after_the_failure_cache(responder):
    responder.http_status = 500
    data = responder.hash_data(responder.issue())
    with override_settings(OCPP_OCSP_FAILURE_CACHE_SECONDS=1):
        assert ocsp.status_lookup(data).status == ocsp.FAILED
        assert ocsp.status_lookup(data).status == ocsp.FAILED
        assert responder.hits == 1
        time.sleep(1.2)
        responder.http_status = 200
        assert ocsp.status_lookup(data).status == ocsp.GOOD
        assert responder.hits == 2


def test_a_trickling_responder_is_cut_off(responder):
    responder.trickle = 0.05  # a few hundred bytes: ~20 s in all, well past 2 x the 2 s timeout
    started = time.monotonic()
    with override_settings(OCPP_OCSP_TIMEOUT=0.5):
        result = ocsp.status_lookup(responder.hash_data(responder.issue()))
    assert result.status == ocsp.FAILED and "too slow" in result.reason
    assert time.monotonic() - started < 3


def test_an_answer_for_another_certificate_is_failed(responder):
    responder.answer_serial = 12345
    result = ocsp.status_lookup(responder.hash_data(responder.issue()))
    assert result.status == ocsp.FAILED and "another certificate" in result.reason


def test_a_forged_signature_is_detected(responder):
    responder.forge = True
    assert ocsp.status_lookup(responder.hash_data(responder.issue())).status == ocsp.BAD_SIGNATURE


def test_a_delegated_responder_is_verified_with_the_issuer_certificate(responder):
    responder.delegate = "with issuer"
    result = ocsp.status_lookup(responder.hash_data(responder.issue()))
    assert result.status == ocsp.GOOD and result.signature_verified


def test_a_delegated_responder_alone_cannot_be_verified(responder):
    # Anyone can make a certificate carrying the issuer's name: without the issuer certificate
    # the delegate's own signature cannot be checked.
    responder.delegate = "alone"
    result = ocsp.status_lookup(responder.hash_data(responder.issue()))
    assert result.status == ocsp.GOOD and not result.signature_verified


def test_an_impostor_delegated_responder_is_a_bad_signature(responder):
    responder.delegate = "impostor"
    assert ocsp.status_lookup(responder.hash_data(responder.issue())).status == ocsp.BAD_SIGNATURE


def test_a_signer_unrelated_to_the_issuer_is_not_verified(responder):
    stranger, _ = pki.create_ca(common_name="Someone else", organization="Elsewhere")
    responder.extra_certificates = [stranger]
    responder.include_certificate = False
    result = ocsp.status_lookup(responder.hash_data(responder.issue()))
    assert result.status == ocsp.GOOD and not result.signature_verified


def test_without_the_responder_certificate_good_is_not_verified(responder):
    responder.include_certificate = False
    result = ocsp.status_lookup(responder.hash_data(responder.issue()))
    assert result.status == ocsp.GOOD and not result.signature_verified


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/ocsp", "file:///etc/passwd", "http://user:pw@127.0.0.1/", "", "http://[::1]:1/"],
)
def test_refused_urls_are_never_contacted(url):
    data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "ab" * 32,
        "issuerKeyHash": "cd" * 32,
        "serialNumber": "01",
        "responderURL": url,
    }
    with override_settings(OCPP_OCSP_ALLOW_PRIVATE=False):
        assert ocsp.status_lookup(data).status == ocsp.FAILED


def test_private_addresses_are_refused_unless_allowed(responder):
    data = responder.hash_data(responder.issue())
    with override_settings(OCPP_OCSP_ALLOW_PRIVATE=False):
        result = ocsp.status_lookup(data)
    assert result.status == ocsp.FAILED and "non-public" in result.reason
    assert responder.hits == 0
    assert ocsp.status_lookup(data).status == ocsp.GOOD  # a refusal is not cached


@pytest.mark.parametrize(
    "change",
    [{"hashAlgorithm": "MD5"}, {"serialNumber": "xyz"}, {"issuerNameHash": "abcd"}],
)
def test_bad_hash_data_is_failed_without_a_request(responder, change):
    data = {**responder.hash_data(responder.issue()), **change}
    assert ocsp.status_lookup(data).status == ocsp.FAILED
    assert responder.hits == 0


# --------------------------------------------------------------------------- services


def test_certificate_status_of_a_foreign_certificate_asks_its_responder(in_tenant_a, responder):
    leaf = responder.issue()
    status, next_update, der = certificates.certificate_status(hash_data=responder.hash_data(leaf))
    assert status == "Good" and next_update is not None
    assert x509_ocsp.load_der_ocsp_response(der).serial_number == leaf.serial_number
    responder.http_status = 503
    data = responder.hash_data(responder.issue())
    assert certificates.certificate_status(hash_data=data) == ("Failed", None, None)
    assert base64.b64encode(der)  # what GetCertificateStatus sends as ocspResult


def test_contract_certificate_status(in_tenant_a, responder):
    sub, leaf = responder.issue("sub"), responder.issue()
    chain = [responder.hash_data(leaf), responder.hash_data(sub)]
    assert certificates.contract_certificate_status(hash_data=chain) == ocsp.GOOD
    revoked_sub = responder.issue("revoked sub")
    responder.revoke(revoked_sub)
    chain = [responder.hash_data(responder.issue()), responder.hash_data(revoked_sub)]
    assert certificates.contract_certificate_status(hash_data=chain) == ocsp.REVOKED
    # The cache answers until nextUpdate: a revocation after the check shows only then.
    responder.revoke(sub)
    assert certificates.contract_certificate_status(hash_data=[responder.hash_data(sub)]) == ocsp.GOOD


def test_contract_certificate_unverified_good_is_not_good(in_tenant_a, responder):
    responder.include_certificate = False
    data = responder.hash_data(responder.issue())
    assert certificates.contract_certificate_status(hash_data=[data]) == ocsp.FAILED
    with override_settings(OCPP_OCSP_ACCEPT_UNVERIFIED=True):
        assert certificates.contract_certificate_status(hash_data=[data]) == certificates.UNVERIFIED_ACCEPTED
