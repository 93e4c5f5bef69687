"""X.509 work without the database: CSR checks, signing, chains, certificateHashData."""

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from apps.certificates import pki

# Made with OpenSSL 3.0 (not with the code under test):
#   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 ... \
#       -subj "/O=Hash Test/CN=Hash Test Root" -set_serial 0x00ab01
#   openssl x509 -req ... -set_serial 0x000f3a7c   (leaf "/O=Hash Test/CN=CP-HASH")
# and the expected values read back with `openssl ocsp -sha256 -issuer root.pem -cert leaf.pem -req_text`.
ROOT_PEM = """-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIDAKsBMAoGCCqGSM49BAMCMC0xEjAQBgNVBAoMCUhhc2gg
VGVzdDEXMBUGA1UEAwwOSGFzaCBUZXN0IFJvb3QwHhcNMjYxMTI1MTU0NTMwWhcN
NDYxMTIwMTU0NTMwWjAtMRIwEAYDVQQKDAlIYXNoIFRlc3QxFzAVBgNVBAMMDkhh
c2ggVGVzdCBSb290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjfvP+DvK/siC
Z6Hei8B7eTZGbX4x5upX4WAMSQsm7BQZsy1FTd4gXaWJ1+dPoLD4ETczB0zj7fUQ
z60aYZStrKNTMFEwHQYDVR0OBBYEFMKNDDiNMlRLAGRKCM0Z8nkXgp3dMB8GA1Ud
IwQYMBaAFMKNDDiNMlRLAGRKCM0Z8nkXgp3dMA8GA1UdEwEB/wQFMAMBAf8wCgYI
KoZIzj0EAwIDSAAwRQIgSEIL5grtVargGQ1dsWAzwfXZZh4giecnF3AmhgGmO9IC
IQDyWg2Xs+I1bfBCm7xAOcx8/3YFVgbwOpruBiFafpm5HA==
-----END CERTIFICATE-----
"""
LEAF_PEM = """-----BEGIN CERTIFICATE-----
MIIBPDCB4wIDDzp8MAoGCCqGSM49BAMCMC0xEjAQBgNVBAoMCUhhc2ggVGVzdDEX
MBUGA1UEAwwOSGFzaCBUZXN0IFJvb3QwHhcNMjYxMTI1MTU0NTMwWhcNNDYwMTI0
MTU0NTMwWjAmMRIwEAYDVQQKDAlIYXNoIFRlc3QxEDAOBgNVBAMMB0NQLUhBU0gw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARN9HPiscdeRJjkFavSPuOgHc80f8gt
lYaPDZW1lNYweiN3QrYtoADhVJguUg2eI35LSSDliPqlLwfR75BK2ZrLMAoGCCqG
SM49BAMCA0gAMEUCICBn/iekwIyp/2Mj37YXJoxIOFTuidGlttOZaB5s7wQAAiEA
wDKAzEgwxhAuKvDRlZVXp612x842GTBhQfPWZBlUdP4=
-----END CERTIFICATE-----
"""
NAME_HASH = "52cc447c9f0aff1d6f0e8ac6cd1e865d02a2ca0fbd1f7f49daa7a2945d36aee0"
KEY_HASH = "fec13122b1d388df94b718bf999ca4a6a225c631d7ff2a94128ed31b3274d54e"


def make_csr(cn="CP-1", o="Alpha Charging", key=None, extra=()):
    key = key or ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn is not None else []
    if o is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attrs += list(extra)
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def check(pem, identity="CP-1", organization="Alpha Charging", certificate_type=pki.CHARGING_STATION):
    pki.check_csr(pki.parse_csr(pem), identity=identity, organization=organization, certificate_type=certificate_type)


# --------------------------------------------------------------------------- certificateHashData


def test_hash_data_matches_openssl_ocsp_cert_id():
    root, leaf = pki.load_certificates(ROOT_PEM)[0], pki.load_certificates(LEAF_PEM)[0]
    assert pki.hash_data(leaf, root) == {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": NAME_HASH,
        "issuerKeyHash": KEY_HASH,
        # OpenSSL prints 0F3A7C; OCPP wants the hex value without leading zeros.
        "serialNumber": "f3a7c",
    }
    # Spelled out: SHA-256 of the DER issuer name and of the issuer's EC point (the BIT STRING value).
    assert hashlib.sha256(root.subject.public_bytes()).hexdigest() == NAME_HASH
    point = root.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert hashlib.sha256(point).hexdigest() == KEY_HASH


def test_hash_data_of_a_root_is_self_issued_and_from_a_bundle():
    assert pki.hash_data_for_pem(ROOT_PEM) == {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": NAME_HASH,
        "issuerKeyHash": KEY_HASH,
        "serialNumber": "ab01",
    }
    assert pki.hash_data_for_pem(LEAF_PEM + ROOT_PEM)["serialNumber"] == "f3a7c"
    assert pki.hash_data_for_pem(LEAF_PEM) is None  # issuer unknown
    assert (
        pki.hash_data_for_pem(ROOT_PEM, "SHA384")["issuerNameHash"]
        == hashlib.sha384(pki.load_certificates(ROOT_PEM)[0].subject.public_bytes()).hexdigest()
    )


def test_hash_data_comparison_ignores_case_and_leading_zeros():
    ours = {"hashAlgorithm": "SHA256", "issuerNameHash": NAME_HASH, "issuerKeyHash": KEY_HASH, "serialNumber": "f3a7c"}
    theirs = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": NAME_HASH.upper(),
        "issuerKeyHash": KEY_HASH.upper(),
        "serialNumber": "0F3A7C",
    }
    assert pki.normalise_hash_data(ours) == pki.normalise_hash_data(theirs)


# --------------------------------------------------------------------------- CSR checks


def test_good_csr_passes_rsa_and_ec():
    check(make_csr())
    check(make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    check(make_csr(o="  alpha charging "))  # case and blanks


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        ("garbage", "not a PEM"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", "not a PEM"),
        (LEAF_PEM, "not a PEM"),
    ],
)
def test_unreadable_csr_is_refused(pem, message):
    with pytest.raises(pki.CsrError, match=message) as exc:
        pki.parse_csr(pem)
    assert exc.value.reason_code == "InvalidCSR"


def test_tampered_csr_signature_is_refused():
    der = bytearray(pki.parse_csr(make_csr()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # a bit of the signature
    pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)).decode()
    pem += "-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(pki.CsrError, match="signature") as exc:
        pki.parse_csr(pem)
    assert exc.value.reason_code == "InvalidCSR"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cn": "CP-2"}, "commonName"),
        ({"cn": None}, "no commonName"),
        ({"o": "Someone Else"}, "organizationName"),
        ({"o": None}, "organizationName"),
        ({"key": rsa.generate_private_key(public_exponent=65537, key_size=1024)}, "at least 2048"),
        ({"key": ec.generate_private_key(ec.SECP192R1())}, "at least 224"),
        ({"key": ed25519.Ed25519PrivateKey.generate()}, "Only RSA and elliptic-curve"),
    ],
)
def test_bad_csr_is_refused(kwargs, message):
    key = kwargs.pop("key", None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        csr = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CP-1")])
        )
        pem = csr.sign(key, None).public_bytes(serialization.Encoding.PEM).decode()
    else:
        pem = make_csr(key=key, **kwargs)
    with pytest.raises(pki.CsrError, match=message) as exc:
        check(pem)
    assert exc.value.reason_code == "InvalidCSR"


def test_v2g_csr_cn_is_the_secc_id_and_key_must_be_ec():
    check(make_csr(cn="DEABCS123456789"), certificate_type=pki.V2G)
    with pytest.raises(pki.CsrError, match="elliptic-curve"):
        check(make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), certificate_type=pki.V2G)


# --------------------------------------------------------------------------- CA and signing


def test_ca_signs_a_chain_that_verifies():
    root, root_key = pki.create_ca(common_name="Alpha Root CA", organization="Alpha Charging")
    sub, sub_key = pki.create_ca(
        common_name="Alpha ChargingStation CA",
        organization="Alpha Charging",
        parent=(root, root_key),
        path_length=0,
        days=pki.SUB_CA_DAYS,
    )
    csr = pki.parse_csr(make_csr(extra=[x509.NameAttribute(NameOID.EMAIL_ADDRESS, "x@example.com")]))
    leaf = pki.sign_csr(csr, issuer_cert=sub, issuer_key=sub_key)
    pki.verify_chain([leaf, sub], root)
    assert leaf.subject.rfc4514_string() == "CN=CP-1,O=Alpha Charging"  # the e-mail address is dropped
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert sub.not_valid_after_utc <= root.not_valid_after_utc
    other_root, _ = pki.create_ca(common_name="Other", organization="Other")
    with pytest.raises(Exception):  # noqa: B017 -- any verification error
        pki.verify_chain([leaf, sub], other_root)
