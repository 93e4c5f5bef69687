"""X.509 work with the `cryptography` package, free of Django: CA generation, CSR checks,
signing, and OCPP's certificateHashData.

Choices (OCPP 2.0.1 part 2 A00 "Certificate properties", 1.6 security whitepaper 2.6.1):
* our CA keys are ECDSA P-256 signing with SHA-256 (A00.FR.505/506: ECDSA or RSA-PSS, SHA-256;
  P-256 is also what ISO 15118-2 demands of the V2G hierarchy);
* CSR keys: RSA >= 2048 bits or an elliptic curve >= 224 bits (A00.FR.502/503); other
  algorithms (DSA, Ed25519 ...) are refused: A00.FR.505 names RSA-PSS and ECDSA only;
* no subjectAltName in issued certificates (A00.FR.511: a dnsName SAN would override the CN).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CHARGING_STATION = "ChargingStationCertificate"
V2G = "V2GCertificate"

ROOT_DAYS = 20 * 365
SUB_CA_DAYS = 10 * 365
# A charger renews a month before expiry (A03.FR.02); a year keeps renewals rare but real.
STATION_LEAF_DAYS = 365
# ISO 15118-2 keeps SECC certificates short-lived (CPO guidance: 2-3 months).
V2G_LEAF_DAYS = 90
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224
# Certificates start a little in the past: chargers with a slightly late clock would
# otherwise refuse a certificate "not yet valid" (A02.FR.08 makes them wait for it).
BACKDATE = dt.timedelta(minutes=5)

_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


class CsrError(Exception):
    """A CSR we refuse to sign: reason_code (<= 20 characters, OCPP StatusInfo) and a sentence."""

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass
class CertInfo:
    serial_number: str
    subject: str
    issuer: str
    organization_name: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint_sha256: str
    fingerprint_sha1: str


# --------------------------------------------------------------------------- helpers


def serial_hex(serial: int) -> str:
    """OCPP CertificateHashDataType.serialNumber: hex without "0x" and without leading zeros."""
    return format(serial, "x")


def _attr(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def info(cert: x509.Certificate) -> CertInfo:
    return CertInfo(
        serial_number=serial_hex(cert.serial_number),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        organization_name=_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        fingerprint_sha1=cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 -- a display fingerprint, not security
    )


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_key(data: bytes):
    return serialization.load_pem_private_key(data, password=None)


def load_certificates(text: str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle, in order. ValueError when there is none."""
    try:
        certs = x509.load_pem_x509_certificates(text.strip().encode())
    except ValueError as exc:
        raise ValueError("Not a PEM encoded X.509 certificate.") from exc
    if not certs:
        raise ValueError("Not a PEM encoded X.509 certificate.")
    return certs


def _new_serial() -> int:
    # RFC 5280: positive, at most 20 octets; 159 random bits keep it unguessable.
    return secrets.randbits(159) | 1


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _ski(public_key) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


# --------------------------------------------------------------------------- CA


def create_ca(
    *,
    common_name: str,
    organization: str,
    parent: tuple[x509.Certificate, object] | None = None,
    path_length: int | None = None,
    days: int = ROOT_DAYS,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed root (parent None) or a sub-CA signed by parent=(certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    issuer_cert, issuer_key = parent if parent else (None, key)
    now = _now()
    not_after = now + dt.timedelta(days=days)
    if issuer_cert is not None:
        not_after = min(not_after, issuer_cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
        .public_key(key.public_key())
        .serial_number(_new_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_ski(key.public_key()), critical=False)
    )
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256()), key


# --------------------------------------------------------------------------- CSR


def parse_csr(text: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr((text or "").strip().encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CsrError("InvalidCSR", "The csr is not a PEM encoded PKCS#10 certificate signing request.") from exc
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        valid = False
    if not valid:
        raise CsrError("InvalidCSR", "The CSR's signature does not verify with its own public key.")
    return csr


def check_csr(csr: x509.CertificateSigningRequest, *, identity: str, organization: str, certificate_type: str) -> None:
    """Refuse what we would not sign (raises CsrError).

    * key: RSA >= 2048 bits, EC >= 224 bits (A00.FR.502/503); V2G: EC only (ISO 15118);
    * CN: the charger's identity for a ChargingStationCertificate (A00.FR.511: its unique serial
      number; the CSMS checks exactly that at the TLS handshake, A00.FR.405) -- a certificate
      naming another charger would let this one pose as it. For a V2GCertificate the CN is the
      SECC id (ISO 15118), which OCPP does not tie to the identity: it must only be present;
    * O: our CA's organisation name (the station fills it from CpoName / OrganizationName,
      A02.FR.13; the CSMS checks it at the TLS handshake, A00.FR.404). Compared ignoring case
      and surrounding blanks. A mismatch is a misconfigured station: signing anyway would hand
      it a certificate that fails that check, so it is refused with a reason the operator sees.
    """
    public_key = csr.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        if certificate_type == V2G:
            raise CsrError("InvalidCSR", "ISO 15118 certificates use elliptic-curve keys, not RSA.")
        if public_key.key_size < MIN_RSA_BITS:
            raise CsrError("InvalidCSR", f"RSA key of {public_key.key_size} bits; at least {MIN_RSA_BITS} required.")
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.key_size < MIN_EC_BITS:
            raise CsrError("InvalidCSR", f"EC key of {public_key.key_size} bits; at least {MIN_EC_BITS} required.")
    else:
        raise CsrError("InvalidCSR", "Only RSA and elliptic-curve (ECDSA) keys are accepted.")
    cn = _attr(csr.subject, NameOID.COMMON_NAME)
    o = _attr(csr.subject, NameOID.ORGANIZATION_NAME)
    if not cn:
        raise CsrError("InvalidCSR", "The CSR subject has no commonName (CN).")
    if certificate_type != V2G and cn != identity:
        raise CsrError("InvalidCSR", f"The CSR's commonName (CN) must be the charger's identity {identity!r}.")
    if o.strip().casefold() != organization.strip().casefold():
        raise CsrError(
            "InvalidCSR",
            f"The CSR's organizationName (O) must be {organization!r} (the station's CpoName / "
            "SecurityCtrlr.OrganizationName).",
        )


def sign_csr(
    csr: x509.CertificateSigningRequest,
    *,
    issuer_cert: x509.Certificate,
    issuer_key,
    certificate_type: str = CHARGING_STATION,
    days: int | None = None,
) -> x509.Certificate:
    """Sign a checked CSR. The subject keeps C, O, OU and CN of the request (in that order) and nothing else;
    requested extensions are ignored (the CA decides what the certificate may do)."""
    keep = (NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.COMMON_NAME)
    subject = x509.Name([attr for oid in keep for attr in csr.subject.get_attributes_for_oid(oid)])
    public_key = csr.public_key()
    days = days or (V2G_LEAF_DAYS if certificate_type == V2G else STATION_LEAF_DAYS)
    now = _now()
    not_after = min(now + dt.timedelta(days=days), issuer_cert.not_valid_after_utc)
    is_ec = isinstance(public_key, ec.EllipticCurvePublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(_new_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not is_ec,
                data_encipherment=False,
                key_agreement=is_ec,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_ski(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False)
    )
    if certificate_type == CHARGING_STATION:
        # The OCPP connection: the station is the TLS client (A00.FR.402).
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def verify_chain(chain: list[x509.Certificate], root: x509.Certificate, *, at: dt.datetime | None = None) -> None:
    """Path validation of a leaf-first chain up to `root` (raises on failure)."""
    from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store

    at = at or dt.datetime.now(dt.UTC)
    # The web PKI profile, except that an OCPP station certificate has no subjectAltName
    # (A00.FR.511) and an ISO 15118 one no extendedKeyUsage.
    ee = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    )
    builder = PolicyBuilder().store(Store([root])).time(at)
    verifier = builder.extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
    verifier.build_client_verifier().verify(chain[0], chain[1:])


# --------------------------------------------------------------------------- certificateHashData


def hash_data(cert: x509.Certificate, issuer: x509.Certificate, algorithm: str = "SHA256") -> dict:
    """OCPP CertificateHashDataType, computed as RFC 6960 computes an OCSP CertID (which is what
    the OCPP definition follows): hash of the DER issuer name, hash of the issuer's public key
    (the subjectPublicKey BIT STRING value), the serial as hex without leading zeros.
    Hashes in lower-case hex, the common form among station implementations."""
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, _HASHES[algorithm]()).build()
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": serial_hex(cert.serial_number),
    }


def hash_data_for_pem(text: str, algorithm: str = "SHA256") -> dict | None:
    """certificateHashData of the first certificate in a PEM bundle: issued by the next
    certificate of the bundle, or by itself when self-signed; None when the issuer is not there."""
    certs = load_certificates(text)
    cert = certs[0]
    for candidate in [cert, *certs[1:]]:
        if candidate.subject == cert.issuer:
            try:
                cert.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, UnsupportedAlgorithm, InvalidSignature):  # not its issuer
                continue
            return hash_data(cert, candidate, algorithm)
    return None


def normalise_hash_data(data: dict) -> tuple[str, str, str, str]:
    """A comparable form: hashes and serial case-insensitive, serial without leading zeros."""
    serial = (data.get("serialNumber") or data.get("serial_number") or "").lower().lstrip("0") or "0"
    return (
        (data.get("hashAlgorithm") or data.get("hash_algorithm") or "").upper(),
        (data.get("issuerNameHash") or data.get("issuer_name_hash") or "").lower(),
        (data.get("issuerKeyHash") or data.get("issuer_key_hash") or "").lower(),
        serial,
    )
