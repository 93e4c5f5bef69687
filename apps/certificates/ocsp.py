"""An OCSP client (RFC 6960) for certificates of other PKIs: ISO 15118 contract certificates
(Authorize with iso15118CertificateHashData, OCPP 2.x C07) and the certificates a station asks
about with GetCertificateStatus (M06). Only `cryptography` and the standard library.

The station gives OCPP's OCSPRequestDataType: the CertID hashes (hex), the serial (hex) and the
responder URL. We build the request by hash, POST it, check the answer (response status, the
same CertID, thisUpdate/nextUpdate, the signature when the responder's certificate is there)
and cache it until its nextUpdate, so repeated Authorize of one contract certificate stay off
the network. Failures are cached briefly so a dead responder does not cost every Authorize the
whole timeout.

SSRF: the URL comes from the EV through the charger. Only http/https, no redirects (http.client
follows none), the host is resolved once and we connect to that very address (no rebinding
between the check and the connection), and private / loopback / link-local / reserved
addresses are refused unless settings.OCPP_OCSP_ALLOW_PRIVATE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
MAX_RESPONSE_BYTES = 64 * 1024
# Responder and CSMS clocks differ a little; RFC 6960 4.2.2.1 leaves the margin to the client.
CLOCK_SKEW = dt.timedelta(minutes=5)
# An nextUpdate years away must not pin a status in the cache for years.
MAX_CACHE_SECONDS = 7 * 24 * 3600

GOOD, REVOKED, UNKNOWN = "Good", "Revoked", "Unknown"
# No usable answer: unreachable, HTTP error, not an OCSP response, an error responseStatus,
# another CertID, stale, or a URL we refuse to contact.
FAILED = "Failed"
# A response whose signature does not verify with the certificate it names as its signer.
BAD_SIGNATURE = "BadSignature"


@dataclass(frozen=True)
class OcspResult:
    status: str  # GOOD | REVOKED | UNKNOWN | FAILED | BAD_SIGNATURE
    der: bytes | None = None  # the DER OCSP response (GOOD/REVOKED/UNKNOWN)
    next_update: dt.datetime | None = None
    # True only when the signature was checked against the issuer or a delegated responder
    # certificate found in the response; False when the response carries no such certificate.
    signature_verified: bool = False
    reason: str = ""


class OcspRequestError(ValueError):
    """The hash data cannot make an OCSP request (bad hex, unknown algorithm)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cert_id(data: dict) -> tuple[str, bytes, bytes, int]:
    """(algorithm, issuerNameHash, issuerKeyHash, serial) from OCSPRequestDataType (camel or snake)."""
    algorithm = (data.get("hashAlgorithm") or data.get("hash_algorithm") or "").upper()
    if algorithm not in _HASHES:
        raise OcspRequestError(f"hash algorithm {algorithm!r} is not SHA256, SHA384 or SHA512")
    try:
        name_hash = bytes.fromhex(data.get("issuerNameHash") or data.get("issuer_name_hash") or "")
        key_hash = bytes.fromhex(data.get("issuerKeyHash") or data.get("issuer_key_hash") or "")
        serial = int(data.get("serialNumber") or data.get("serial_number") or "", 16)
    except ValueError as exc:
        raise OcspRequestError("issuerNameHash, issuerKeyHash and serialNumber must be hex") from exc
    size = _HASHES[algorithm].digest_size
    if len(name_hash) != size or len(key_hash) != size:
        raise OcspRequestError(f"{algorithm} hashes are {size} bytes")
    return algorithm, name_hash, key_hash, serial


def responder_url(data: dict) -> str:
    return (data.get("responderURL") or data.get("responder_url") or "").strip()


def request_der(data: dict) -> bytes:
    algorithm, name_hash, key_hash, serial = cert_id(data)
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(name_hash, key_hash, serial, _HASHES[algorithm]())
    return builder.build().public_bytes(serialization.Encoding.DER)


def _cache_key(data: dict, url: str) -> str:
    algorithm, name_hash, key_hash, serial = cert_id(data)
    raw = f"{algorithm}|{name_hash.hex()}|{key_hash.hex()}|{serial:x}|{url}"
    return "ocsp:" + hashlib.sha256(raw.encode()).hexdigest()


# --------------------------------------------------------------------------- transport


class RefusedURL(Exception):
    pass


def _resolve(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, ip, path) for an allowed URL; RefusedURL otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedURL("only http and https responder URLs are queried")
    if parts.username or parts.password:
        raise RefusedURL("responder URLs with credentials are refused")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedURL("bad port") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionError(f"cannot resolve {parts.hostname}") from exc
    ip = infos[0][4][0]
    if not settings.OCPP_OCSP_ALLOW_PRIVATE:
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not address.is_global or address.is_multicast:
                raise RefusedURL(f"{parts.hostname} resolves to a non-public address ({address})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, ip, path


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, timeout: float) -> bytes:
    scheme, host, port, ip, path = _resolve(url)
    cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = cls(host, port, ip, timeout)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"},
        )
        response = conn.getresponse()
        if response.status != 200:
            raise ConnectionError(f"HTTP {response.status}")
        # The socket timeout bounds each read; the deadline bounds the body as a whole, so a
        # responder trickling bytes cannot hold the Authorize handler's thread for long.
        deadline = time.monotonic() + 2 * timeout
        data = b""
        while chunk := response.read1(16 * 1024):
            data += chunk
            if len(data) > MAX_RESPONSE_BYTES:
                raise ConnectionError("response too large")
            if time.monotonic() > deadline:
                raise ConnectionError("response too slow")
        return data
    finally:
        conn.close()


# --------------------------------------------------------------------------- checks


def _key_hash(cert: x509.Certificate, algorithm: str) -> bytes:
    # RFC 6960 CertID: hash of the subjectPublicKey BIT STRING value (no tag, length, unused bits).
    return ocsp.OCSPRequestBuilder().add_certificate(cert, cert, _HASHES[algorithm]()).build().issuer_key_hash


def _name_hash(name: x509.Name, algorithm: str) -> bytes:
    digest = hashes.Hash(_HASHES[algorithm]())
    digest.update(name.public_bytes())
    return digest.finalize()


def _verify(response: ocsp.OCSPResponse, public_key) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            oid = response.signature_algorithm_oid
            if oid == x509.SignatureAlgorithmOID.RSASSA_PSS:
                pad = padding.PSS(mgf=padding.MGF1(response.signature_hash_algorithm), salt_length=padding.PSS.AUTO)
            else:
                pad = padding.PKCS1v15()
            public_key.verify(response.signature, response.tbs_response_bytes, pad, response.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(
                response.signature, response.tbs_response_bytes, ec.ECDSA(response.signature_hash_algorithm)
            )
        else:
            public_key.verify(response.signature, response.tbs_response_bytes)
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def _signature_check(response: ocsp.OCSPResponse, algorithm: str, name_hash: bytes, key_hash: bytes) -> str:
    """ "verified", "unverified" or "bad", from the certificates the response carries.

    The issuer itself may sign (its subject and key hash to the CertID's: then its public key is
    the issuer's, whoever sent the certificate), or a delegated responder (id-kp-OCSPSigning,
    issued under the issuer's name, in its validity: RFC 6960 4.2.2.2). The station sends hashes,
    not the issuer certificate, and the responder URL comes from the EV: a delegate counts as
    verified only when the response also carries the issuer certificate and the delegate's
    signature verifies with it -- anyone can make a certificate with the issuer's name."""
    now = _now()
    issuer, delegates = None, []
    for cert in response.certificates:
        if _name_hash(cert.subject, algorithm) == name_hash and _key_hash(cert, algorithm) == key_hash:
            issuer = cert
            continue
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if (
            ExtendedKeyUsageOID.OCSP_SIGNING in eku
            and _name_hash(cert.issuer, algorithm) == name_hash
            and cert.not_valid_before_utc - CLOCK_SKEW <= now <= cert.not_valid_after_utc + CLOCK_SKEW
        ):
            delegates.append(cert)
    if issuer is not None and _verify(response, issuer.public_key()):
        return "verified"
    for delegate in delegates:
        if _verify(response, delegate.public_key()):
            if issuer is None:
                return "unverified"
            try:
                delegate.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                return "bad"
            return "verified"
    # Signers named, none authorised for this CertID or none whose key verifies the signature.
    return "bad" if issuer is not None or delegates else "unverified"


def parse_response(der: bytes, data: dict) -> OcspResult:
    """Check a DER OCSP response against the request's CertID."""
    algorithm, name_hash, key_hash, serial = cert_id(data)
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError:
        return OcspResult(FAILED, reason="not an OCSP response")
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return OcspResult(FAILED, reason=f"responseStatus {response.response_status.name}")
    try:
        single = next(
            r
            for r in response.responses
            if r.serial_number == serial
            and r.issuer_name_hash == name_hash
            and r.issuer_key_hash == key_hash
            and r.hash_algorithm.name.upper() == algorithm
        )
    except StopIteration:
        return OcspResult(FAILED, reason="the response answers another certificate")
    now = _now()
    next_update = single.next_update_utc
    if single.this_update_utc > now + CLOCK_SKEW or (next_update is not None and next_update < now - CLOCK_SKEW):
        return OcspResult(FAILED, reason="the response is not current (thisUpdate/nextUpdate)")
    check = _signature_check(response, algorithm, name_hash, key_hash)
    if check == "bad":
        return OcspResult(BAD_SIGNATURE, reason="the response signature does not verify with an authorised signer")
    verified = check == "verified"
    status = {
        ocsp.OCSPCertStatus.GOOD: GOOD,
        ocsp.OCSPCertStatus.REVOKED: REVOKED,
        ocsp.OCSPCertStatus.UNKNOWN: UNKNOWN,
    }[single.certificate_status]
    return OcspResult(status, der=der, next_update=next_update, signature_verified=verified)


# --------------------------------------------------------------------------- the lookup


def _store(key: str, result: OcspResult) -> None:
    if result.status in (GOOD, REVOKED, UNKNOWN):
        if result.next_update is not None:
            seconds = int((result.next_update - _now()).total_seconds())
        else:
            seconds = settings.OCPP_OCSP_CACHE_SECONDS
        seconds = min(seconds, MAX_CACHE_SECONDS)
        if seconds > 0:
            cache.set(key, {"der": result.der}, seconds)
    else:
        cache.set(key, {"failed": result.status, "reason": result.reason}, settings.OCPP_OCSP_FAILURE_CACHE_SECONDS)


def status_lookup(data: dict) -> OcspResult:
    """The status of the certificate OCSPRequestDataType `data` names, from the cache or from
    its responderURL. Never raises for network or responder trouble (FAILED instead)."""
    url = responder_url(data)
    if not url:
        return OcspResult(FAILED, reason="no responderURL")
    try:
        key = _cache_key(data, url)
        body = request_der(data)
    except OcspRequestError as exc:
        return OcspResult(FAILED, reason=str(exc))
    hit = cache.get(key)
    if hit is not None:
        if "der" in hit:
            result = parse_response(hit["der"], data)
            if result.status != FAILED:  # FAILED here: it went stale in the cache
                return result
        else:
            return OcspResult(hit["failed"], reason=hit["reason"] + " (cached)")
    try:
        der = _post(url, body, settings.OCPP_OCSP_TIMEOUT)
    except RefusedURL as exc:
        return OcspResult(FAILED, reason=str(exc))  # not cached: nothing was asked of anyone
    except (OSError, http.client.HTTPException, ConnectionError) as exc:
        log.info("OCSP responder %s unreachable: %s", url, exc)
        result = OcspResult(FAILED, reason=f"responder unreachable: {exc}")
    else:
        result = parse_response(der, data)
    _store(key, result)
    return result
