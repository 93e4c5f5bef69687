"""A real OCSP responder for tests: an HTTP server on 127.0.0.1 in a thread, answering with
`cryptography`'s OCSPResponseBuilder, signed by a test CA made here (no mocks of the exchange).

    with OcspResponder() as responder:
        leaf = responder.issue()              # a contract certificate of the test CA
        responder.revoke(leaf)                # or leave it good; unknown serials answer unknown
        data = responder.hash_data(leaf)      # OCPP OCSPRequestDataType with responderURL
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apps.certificates import pki


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/ocsp"


class OcspResponder:
    def __init__(self):
        self.ca, self.ca_key = pki.create_ca(common_name="Test MO Sub-CA", organization="Test eMSP")
        self.revoked: set[int] = set()
        self.good: set[int] = set()
        self.hits = 0
        self.http_status = 200
        self.next_update: dt.timedelta | None = dt.timedelta(hours=1)
        self.include_certificate = True
        self.forge = False  # a response whose signature does not verify
        self.answer_serial: int | None = None  # answer for another serial than asked
        self.trickle: float = 0.0  # seconds between the body's bytes (a slow-drip responder)
        # Sign with a delegated responder certificate (id-kp-OCSPSigning): "with issuer" (the CA
        # certificate sent too), "alone", or "impostor" (issuer's name, signed by another key; the
        # CA certificate sent too).
        self.delegate: str | None = None
        self.extra_certificates: list[x509.Certificate] = []  # sent in the response besides
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/ocsp"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def issue(self, emaid: str = "DE-EVZ-C12345678-9") -> x509.Certificate:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, emaid)]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.ca_key, hashes.SHA256())
        )
        self.good.add(cert.serial_number)
        return cert

    def _delegate_certificate(self, signer_key) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test OCSP responder")]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .sign(signer_key, hashes.SHA256())
        )
        return cert, key

    def revoke(self, cert: x509.Certificate) -> None:
        self.good.discard(cert.serial_number)
        self.revoked.add(cert.serial_number)

    def hash_data(self, cert: x509.Certificate, url: str | None = None) -> dict:
        return {**pki.hash_data(cert, self.ca), "responderURL": url or self.url}

    def respond(self, body: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(body)
        serial = request.serial_number
        if serial in self.revoked:
            status = ocsp.OCSPCertStatus.REVOKED
        elif serial in self.good:
            status = ocsp.OCSPCertStatus.GOOD
        else:
            status = ocsp.OCSPCertStatus.UNKNOWN
        now = dt.datetime.now(dt.UTC)
        revoked = status == ocsp.OCSPCertStatus.REVOKED
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=self.answer_serial if self.answer_serial is not None else serial,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=now - dt.timedelta(seconds=1),
            next_update=now + self.next_update if self.next_update is not None else None,
            revocation_time=now - dt.timedelta(days=1) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        if self.delegate:
            signer_key = ec.generate_private_key(ec.SECP256R1()) if self.delegate == "impostor" else self.ca_key
            responder_cert, responder_key = self._delegate_certificate(signer_key)
            chain = [responder_cert] if self.delegate == "alone" else [responder_cert, self.ca]
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder_cert).certificates(chain)
            response = builder.sign(responder_key, hashes.SHA256())
        else:
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca)
            sent = ([self.ca] if self.include_certificate else []) + self.extra_certificates
            if sent:
                builder = builder.certificates(sent)
            response = builder.sign(self.ca_key, hashes.SHA256())
        der = response.public_bytes(serialization.Encoding.DER)
        if self.forge:  # one bit of the signature's last byte flipped: well-formed, not valid
            signature = response.signature
            der = der.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1]))
        return der

    def _handler(self):
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                responder.hits += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if responder.http_status != 200 or self.headers.get("Content-Type") != "application/ocsp-request":
                    self.send_response(responder.http_status if responder.http_status != 200 else 415)
                    self.end_headers()
                    return
                data = responder.respond(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not responder.trickle:
                    self.wfile.write(data)
                    return
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(responder.trickle)

            def log_message(self, *args):
                pass

        return Handler
