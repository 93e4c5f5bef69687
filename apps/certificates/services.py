"""Certificate services: the organisation's CA, signing chargers' CSRs, delivering the
result (CertificateSigned), and keeping what chargers report about installed certificates.

Everything runs in the organisation's schema: each organisation has a CA of its own.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from django.db import connection, transaction
from django.utils import timezone

from apps.certificates import ocsp, pki
from apps.certificates.models import CertificateAuthority, InstalledCertificate, IssuedCertificate
from apps.chargers.models import ChargePoint, ProtocolVersion
from apps.chargers.services import charger_event_record
from apps.core import crypto
from apps.core.tenancy import queue_after_commit
from apps.csms.commands import InvalidCommand, command_send
from apps.tenants.models import Organization

log = logging.getLogger(__name__)

Kind = CertificateAuthority.Kind
# The SignCertificate answer must reach the station before CertificateSigned does.
DELIVERY_DELAY = 2.0
DELIVERY_TIMEOUT = 30
# 1.6 security whitepaper names the CSMS root "CentralSystemRootCertificate".
V16_INSTALL_TYPES = {"CSMSRootCertificate": "CentralSystemRootCertificate"}
V16_TYPES_BACK = {v: k for k, v in V16_INSTALL_TYPES.items()}


class CertificateError(Exception):
    """An operation the operator asked for that cannot be done (shown as a message)."""


# --------------------------------------------------------------------------- keys at rest


def _encrypt_key(key) -> str:
    return crypto.encrypt_bytes(pki.key_pem(key))


def ca_private_key(ca: CertificateAuthority):
    try:
        return pki.load_key(crypto.decrypt_bytes(ca.private_key_encrypted))
    except crypto.DecryptionError as exc:
        raise CertificateError("The CA key cannot be decrypted: was FIELD_ENCRYPTION_KEY changed?") from exc


def ca_certificate(ca: CertificateAuthority) -> x509.Certificate:
    return pki.load_certificates(ca.certificate_pem)[0]


# --------------------------------------------------------------------------- the CA


def _organization():
    return Organization.objects.filter(schema_name=connection.schema_name).first()


def _default_organization_name() -> str:
    org = _organization()
    return (org.name if org else "") or connection.schema_name


def _lock(name: str) -> None:
    """Serialise CA creation per schema (two chargers asking at once must not make two roots)."""
    key = zlib.crc32(f"certificates:{connection.schema_name}:{name}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _store_ca(*, kind: str, cert, key, parent: CertificateAuthority | None) -> CertificateAuthority:
    i = pki.info(cert)
    return CertificateAuthority.objects.create(
        kind=kind,
        parent=parent,
        certificate_pem=pki.pem(cert),
        private_key_encrypted=_encrypt_key(key),
        serial_number=i.serial_number,
        subject=i.subject,
        issuer=i.issuer,
        organization_name=i.organization_name,
        not_before=i.not_before,
        not_after=i.not_after,
        fingerprint_sha256=i.fingerprint_sha256,
        fingerprint_sha1=i.fingerprint_sha1,
    )


def active_ca(kind: str) -> CertificateAuthority | None:
    return CertificateAuthority.objects.filter(kind=kind, active=True).first()


@dataclass
class CaPair:
    root: CertificateAuthority
    signing: CertificateAuthority


def _ensure_pair(*, root_kind: str, sub_kind: str, names: tuple[str, str], organization_name: str) -> CaPair:
    _lock(root_kind)
    root, sub = active_ca(root_kind), active_ca(sub_kind)
    if root and sub and sub.parent_id == root.pk:
        return CaPair(root, sub)
    organization_name = (organization_name or "").strip() or _default_organization_name()
    if root is None:
        cert, key = pki.create_ca(common_name=names[0], organization=organization_name)
        root = _store_ca(kind=root_kind, cert=cert, key=key, parent=None)
    if sub is not None:  # issued by a retired root: retire it too
        CertificateAuthority.objects.filter(pk=sub.pk).update(active=False)
    cert, key = pki.create_ca(
        common_name=names[1],
        organization=root.organization_name,
        parent=(ca_certificate(root), ca_private_key(root)),
        path_length=0,
        days=pki.SUB_CA_DAYS,
    )
    sub = _store_ca(kind=sub_kind, cert=cert, key=key, parent=root)
    return CaPair(root, sub)


@transaction.atomic
def ca_ensure(*, organization_name: str = "") -> CaPair:
    """The organisation's root CA and its "ChargingStation CA" (signs charger certificates),
    created on first need. `organization_name` (the O of both) only counts at creation."""
    org = organization_name.strip() or _default_organization_name()
    return _ensure_pair(
        root_kind=Kind.ROOT,
        sub_kind=Kind.STATION_CA,
        names=(f"{org} Root CA", f"{org} ChargingStation CA"),
        organization_name=org,
    )


@transaction.atomic
def v2g_ca_create(*, organization_name: str = "") -> CaPair:
    """An own V2G root with a CPO sub-CA, for ISO 15118 SECC certificates. Only on an
    operator's request: EVs trust the V2G roots of the public PKIs (Hubject ...), so this
    suits private or test set-ups, and chargers must be given the root (InstallCertificate
    V2GRootCertificate)."""
    org = organization_name.strip() or (
        active_ca(Kind.ROOT).organization_name if active_ca(Kind.ROOT) else _default_organization_name()
    )
    return _ensure_pair(
        root_kind=Kind.V2G_ROOT,
        sub_kind=Kind.V2G_CA,
        names=(f"{org} V2G Root CA", f"{org} CPO Sub-CA"),
        organization_name=org,
    )


# --------------------------------------------------------------------------- SignCertificate


@dataclass
class SignResult:
    status: str  # Accepted | Rejected
    reason_code: str = ""
    message: str = ""
    issued_id: int | None = None

    def answer(self) -> dict:
        out = {"status": self.status}
        if self.reason_code:
            out["status_info"] = {"reason_code": self.reason_code, "additional_info": self.message[:512]}
        return out


@transaction.atomic
def certificate_sign_request(
    *,
    charge_point_id: int,
    csr: str,
    certificate_type: str | None = None,
    request_id: int | None = None,
    registration_status: str = "Accepted",
) -> SignResult:
    """SignCertificate from a charger (2.x, and 1.6 security extension): check the CSR, sign
    it with our CA, and queue CertificateSigned for after the answer (never sent from the
    charger's receive path). Every request is kept as charger history (ChargerEvent)."""
    cp = ChargePoint.objects.get(pk=charge_point_id)
    # Omitted: "for both the 15118 and the CSMS connection" -- the CSMS connection is what we serve.
    cert_type = certificate_type or pki.CHARGING_STATION
    result = _sign(cp=cp, csr=csr, cert_type=cert_type, request_id=request_id, registration_status=registration_status)
    charger_event_record(
        charge_point_id=cp.pk,
        kind="SignCertificate",
        status=result.status,
        request_id=request_id,
        info=result.message,
        payload={"certificateType": certificate_type, "csr": csr[:6000], "issuedId": result.issued_id},
    )
    if result.issued_id is not None:
        from apps.certificates.tasks import deliver_certificate

        queue_after_commit(deliver_certificate, result.issued_id, countdown=DELIVERY_DELAY)
    return result


def _sign(*, cp: ChargePoint, csr: str, cert_type: str, request_id, registration_status: str) -> SignResult:
    if registration_status != "Accepted" or cp.registration_status != "Accepted":
        # A station the operator has not accepted could be anyone who picked an identity.
        return SignResult("Rejected", "NotAccepted", "The charging station is not Accepted.")
    if cp.security_profile == ChargePoint.SecurityProfile.NONE:
        # Nothing proves who is on this connection: a certificate would let anyone become
        # this charger at security profile 3.
        return SignResult(
            "Rejected", "NoAuthentication", "Certificates are issued only to chargers that authenticate (profile >= 1)."
        )
    if cert_type == pki.V2G:
        pair = active_ca(Kind.V2G_CA)
        if pair is None:
            return SignResult(
                "Rejected",
                "NotEnabled",
                "No V2G CA: create one on the organisation's certificates page (or use a V2G PKI provider).",
            )
        signing = pair
    elif cert_type == pki.CHARGING_STATION:
        signing = ca_ensure().signing
    else:  # 2.1 V2G20Certificate (ISO 15118-20 PKI)
        return SignResult("Rejected", "NotSupported", f"{cert_type} is not signed by this CSMS.")
    try:
        request = pki.parse_csr(csr)
        pki.check_csr(request, identity=cp.identity, organization=signing.organization_name, certificate_type=cert_type)
    except pki.CsrError as exc:
        return SignResult("Rejected", exc.reason_code, exc.message)
    cert = pki.sign_csr(
        request, issuer_cert=ca_certificate(signing), issuer_key=ca_private_key(signing), certificate_type=cert_type
    )
    i = pki.info(cert)
    issued = IssuedCertificate.objects.create(
        charge_point=cp,
        identity=cp.identity,
        certificate_type=cert_type,
        issuer=signing,
        serial_number=i.serial_number,
        subject=i.subject,
        not_before=i.not_before,
        not_after=i.not_after,
        fingerprint_sha256=i.fingerprint_sha256,
        certificate_pem=pki.pem(cert),
        csr_pem=csr,
        request_id=request_id,
    )
    return SignResult("Accepted", issued_id=issued.pk)


def certificate_chain(issued: IssuedCertificate) -> str:
    """CertificateSigned.certificateChain: leaf first, then the sub-CA that signed it (the
    root is the trust anchor the station already holds)."""
    return issued.certificate_pem.strip() + "\n" + issued.issuer.certificate_pem.strip() + "\n"


def certificate_signed_payload(issued: IssuedCertificate, *, protocol_version: str) -> dict:
    payload = {"certificateChain": certificate_chain(issued)}
    if protocol_version != ProtocolVersion.OCPP16:  # 1.6 has no certificateType
        payload["certificateType"] = issued.certificate_type
        if protocol_version == ProtocolVersion.OCPP21 and issued.request_id is not None:
            payload["requestId"] = issued.request_id
    return payload


def issued_certificate_deliver(*, issued_id: int, user=None) -> str:
    """Send CertificateSigned for an issued certificate and record what came of it
    (the answer also arrives through the session's answered hook)."""

    issued = IssuedCertificate.objects.select_related("issuer", "charge_point").get(pk=issued_id)
    cp = issued.charge_point
    if cp is None:
        IssuedCertificate.objects.filter(pk=issued.pk).update(status=IssuedCertificate.Status.FAILED)
        return "failed"
    payload = certificate_signed_payload(issued, protocol_version=cp.protocol_version)
    IssuedCertificate.objects.filter(pk=issued.pk).update(status=IssuedCertificate.Status.SENT)
    try:
        result = command_send(
            charge_point=cp,
            action="CertificateSigned",
            payload=payload,
            user=user,
            timeout=DELIVERY_TIMEOUT,
            source="certificates",
        )
    except InvalidCommand as exc:
        _mark(issued.pk, IssuedCertificate.Status.FAILED, str(exc))
        return "failed"
    if result.status == "ok" and result.response:
        certificate_signed_answer_record(charge_point_id=cp.pk, payload=payload, answer=result.response)
    elif result.status != "ok":
        # Only when nothing better arrived meanwhile (a late answer lands through the hook).
        IssuedCertificate.objects.filter(pk=issued.pk, status=IssuedCertificate.Status.SENT).update(
            status=IssuedCertificate.Status.FAILED, status_info=f"CertificateSigned: {result.status}"
        )
    return result.status


def _mark(issued_id: int, status: str, info: str = "") -> None:
    IssuedCertificate.objects.filter(pk=issued_id).update(status=status, status_info=info[:600])


# --------------------------------------------------------------------------- answers to commands


def _leaf_serial(chain: str) -> str | None:
    try:
        return pki.serial_hex(pki.load_certificates(chain)[0].serial_number)
    except ValueError:
        return None


def _status_info_text(answer: dict) -> str:
    info = answer.get("statusInfo") or {}
    return " ".join(filter(None, [info.get("reasonCode", ""), info.get("additionalInfo", "")]))


@transaction.atomic
def certificate_signed_answer_record(*, charge_point_id: int, payload: dict, answer: dict) -> int:
    serial = _leaf_serial(payload.get("certificateChain", ""))
    if serial is None:
        return 0
    accepted = answer.get("status") == "Accepted"
    return IssuedCertificate.objects.filter(charge_point_id=charge_point_id, serial_number=serial).update(
        status=IssuedCertificate.Status.ACCEPTED if accepted else IssuedCertificate.Status.REJECTED,
        status_info=_status_info_text(answer)[:600],
        delivered_at=timezone.now(),
    )


def _known_certificate(data: tuple) -> tuple[str, str, datetime | None]:
    """(PEM, subject, not_after) when a reported hash is one of our CA certificates."""
    algorithm = data[0]
    if algorithm not in pki._HASHES:
        return "", "", None
    for ca in CertificateAuthority.objects.all():
        cert = ca_certificate(ca)
        issuer = ca_certificate(ca.parent) if ca.parent_id else cert
        if pki.normalise_hash_data(pki.hash_data(cert, issuer, algorithm)) == data:
            return ca.certificate_pem, ca.subject, ca.not_after
    return "", "", None


@transaction.atomic
def installed_certificates_record(*, charge_point_id: int, requested_types: list[str] | None, answer: dict) -> int:
    """GetInstalledCertificateIds answer: the station's list replaces ours for the types asked
    about (all types when none were named)."""
    rows = []
    for chain in answer.get("certificateHashDataChain") or []:  # 2.x
        rows.append((chain["certificateType"], chain["certificateHashData"], chain.get("childCertificateHashData")))
    for data in answer.get("certificateHashData") or []:  # 1.6: one type per request
        rows.append(((requested_types or [""])[0], data, None))
    existing = InstalledCertificate.objects.filter(charge_point_id=charge_point_id)
    if requested_types:
        existing = existing.filter(certificate_type__in=requested_types)
    keep = []
    for cert_type, data, children in rows:
        norm = pki.normalise_hash_data(data)
        obj = InstalledCertificate.objects.filter(
            charge_point_id=charge_point_id,
            hash_algorithm=data["hashAlgorithm"],
            issuer_name_hash=data["issuerNameHash"],
            issuer_key_hash=data["issuerKeyHash"],
            serial_number=data["serialNumber"],
        ).first()
        if obj is None:
            pem, subject, not_after = _matching_installed(charge_point_id, norm) or _known_certificate(norm)
            obj = InstalledCertificate(
                charge_point_id=charge_point_id,
                hash_algorithm=data["hashAlgorithm"],
                issuer_name_hash=data["issuerNameHash"],
                issuer_key_hash=data["issuerKeyHash"],
                serial_number=data["serialNumber"],
                certificate_pem=pem,
                subject=subject,
                not_after=not_after,
            )
        obj.certificate_type = V16_TYPES_BACK.get(cert_type, cert_type) if cert_type else obj.certificate_type
        obj.child_certificate_hash_data = children or []
        obj.reported = True
        obj.save()
        keep.append(obj.pk)
    # Rows we computed ourselves (installed by EVzone) that the station spells differently
    # are replaced by its own spelling above; everything not reported is gone.
    existing.exclude(pk__in=keep).delete()
    return len(keep)


def _matching_installed(charge_point_id: int, norm: tuple):
    for row in InstalledCertificate.objects.filter(charge_point_id=charge_point_id, reported=False):
        if pki.normalise_hash_data(row.hash_data()) == norm and row.certificate_pem:
            return row.certificate_pem, row.subject, row.not_after
    return None


@transaction.atomic
def install_certificate_answer_record(
    *, charge_point_id: int, payload: dict, answer: dict
) -> InstalledCertificate | None:
    """InstallCertificate Accepted: the station now holds that certificate; keep it with its
    PEM (the station's own list, once asked for, is the reference)."""
    if answer.get("status") != "Accepted":
        return None
    pem = payload.get("certificate", "")
    try:
        data = pki.hash_data_for_pem(pem)
        cert = pki.load_certificates(pem)[0]
    except ValueError:
        return None
    if data is None:
        return None
    cert_type = V16_TYPES_BACK.get(payload.get("certificateType", ""), payload.get("certificateType", ""))
    i = pki.info(cert)
    obj, _ = InstalledCertificate.objects.update_or_create(
        charge_point_id=charge_point_id,
        hash_algorithm=data["hashAlgorithm"],
        issuer_name_hash=data["issuerNameHash"],
        issuer_key_hash=data["issuerKeyHash"],
        serial_number=data["serialNumber"],
        defaults={
            "certificate_type": cert_type,
            "certificate_pem": pki.pem(cert),
            "subject": i.subject,
            "not_after": i.not_after,
        },
    )
    return obj


@transaction.atomic
def delete_certificate_answer_record(*, charge_point_id: int, payload: dict, answer: dict) -> int:
    """DeleteCertificate Accepted or NotFound: the station no longer holds it."""
    if answer.get("status") not in ("Accepted", "NotFound"):
        return 0
    target = pki.normalise_hash_data(payload.get("certificateHashData") or {})
    gone = [
        row.pk
        for row in InstalledCertificate.objects.filter(charge_point_id=charge_point_id)
        if pki.normalise_hash_data(row.hash_data()) == target
    ]
    InstalledCertificate.objects.filter(pk__in=gone).delete()
    return len(gone)


def certificate_command_answered(*, charge_point_id: int, action: str, payload: dict, answer: dict) -> None:
    """One entry point for the sessions of every version (answered commands, camelCase as on the wire)."""
    if action == "CertificateSigned":
        certificate_signed_answer_record(charge_point_id=charge_point_id, payload=payload, answer=answer)
    elif action == "InstallCertificate":
        install_certificate_answer_record(charge_point_id=charge_point_id, payload=payload, answer=answer)
    elif action == "GetInstalledCertificateIds":
        requested = payload.get("certificateType")
        if isinstance(requested, str):  # 1.6: a single type
            requested = [V16_TYPES_BACK.get(requested, requested)]
        if answer.get("status") == "NotFound":
            answer = {}
        installed_certificates_record(charge_point_id=charge_point_id, requested_types=requested or None, answer=answer)
    elif action == "DeleteCertificate":
        delete_certificate_answer_record(charge_point_id=charge_point_id, payload=payload, answer=answer)


# --------------------------------------------------------------------------- operator actions


@transaction.atomic
def issued_certificate_revoke(*, issued: IssuedCertificate, reason: str = "") -> IssuedCertificate:
    """Mark a certificate revoked (the OCSP answers and the portal say so from then on).
    Conditional: revoking twice keeps the first date."""
    IssuedCertificate.objects.filter(pk=issued.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revocation_reason=reason[:200]
    )
    issued.refresh_from_db()
    return issued


def install_payload(*, charge_point: ChargePoint, certificate_type: str, pem: str) -> dict:
    """InstallCertificate for the charger's version (raises CertificateError for a bad PEM)."""
    try:
        certs = pki.load_certificates(pem)
    except ValueError as exc:
        raise CertificateError(str(exc)) from exc
    if len(certs) != 1:
        raise CertificateError("Install one certificate at a time (the PEM holds several).")
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        certificate_type = V16_INSTALL_TYPES.get(certificate_type, certificate_type)
    return {"certificateType": certificate_type, "certificate": pki.pem(certs[0])}


def installed_ids_payloads(*, charge_point: ChargePoint) -> list[dict]:
    """GetInstalledCertificateIds request(s): 2.x asks for every type at once; 1.6 names one
    type per request."""
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        return [{"certificateType": t} for t in ("CentralSystemRootCertificate", "ManufacturerRootCertificate")]
    return [{}]


def renewal_trigger(*, charge_point: ChargePoint, certificate_type: str = pki.CHARGING_STATION) -> tuple[str, dict]:
    """The command that makes a charger send a fresh SignCertificate (A02)."""
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        return "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
    message = "SignV2GCertificate" if certificate_type == pki.V2G else "SignChargingStationCertificate"
    return "TriggerMessage", {"requestedMessage": message}


# --------------------------------------------------------------------------- certificate status


def _ours_by_hash(data: dict):
    """(certificate, issuer certificate, issuer CA, IssuedCertificate|None) for a hash of a
    certificate we issued or of one of our sub-CAs; None otherwise."""
    norm = pki.normalise_hash_data(data)
    algorithm = norm[0]
    if algorithm not in pki._HASHES:
        return None
    serial = norm[3]
    issued = IssuedCertificate.objects.filter(serial_number=serial).select_related("issuer").first()
    if issued is not None:
        issuer = issued.issuer
        cert, issuer_cert = pki.load_certificates(issued.certificate_pem)[0], ca_certificate(issuer)
        if pki.normalise_hash_data(pki.hash_data(cert, issuer_cert, algorithm)) == norm:
            return cert, issuer_cert, issuer, issued
    ca = (
        CertificateAuthority.objects.filter(serial_number=serial, parent__isnull=False).select_related("parent").first()
    )
    if ca is not None:
        cert, issuer_cert = ca_certificate(ca), ca_certificate(ca.parent)
        if pki.normalise_hash_data(pki.hash_data(cert, issuer_cert, algorithm)) == norm:
            return cert, issuer_cert, ca.parent, None
    return None


def _own_status(found) -> tuple[str, datetime | None, bytes | None]:
    """("Good"|"Revoked", next update, DER OCSP response signed by the issuing CA) for a
    certificate our CA issued (we are its authority: no responder is asked)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp as x509_ocsp

    cert, issuer_cert, issuer_ca, issued = found
    now = timezone.now()
    next_update = now + timedelta(days=1)
    revoked = issued is not None and issued.revoked_at is not None
    builder = x509_ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=issuer_cert,
        algorithm=hashes.SHA256(),
        cert_status=x509_ocsp.OCSPCertStatus.REVOKED if revoked else x509_ocsp.OCSPCertStatus.GOOD,
        this_update=now,
        next_update=next_update,
        revocation_time=issued.revoked_at if revoked else None,
        revocation_reason=x509.ReasonFlags.unspecified if revoked else None,
    )
    response = builder.responder_id(x509_ocsp.OCSPResponderEncoding.HASH, issuer_cert).sign(
        ca_private_key(issuer_ca), hashes.SHA256()
    )
    return ("Revoked" if revoked else "Good"), next_update, response.public_bytes(Encoding.DER)


def certificate_status(*, hash_data: dict) -> tuple[str, datetime | None, bytes | None]:
    """For GetCertificateStatus / GetCertificateChainStatus: (status, next update, DER OCSP
    response). Certificates we issued are answered from our records; any other is asked of
    the responderURL in `hash_data` (apps.certificates.ocsp: cached, SSRF-guarded): "Good",
    "Revoked" or "Unknown" as the responder said, or ("Failed", None, None) when no checked
    answer could be had (no URL, unreachable, error status, another CertID, bad signature)."""
    found = _ours_by_hash(hash_data)
    if found is not None:
        return _own_status(found)
    result = ocsp.status_lookup(hash_data)
    if result.status in (ocsp.GOOD, ocsp.REVOKED, ocsp.UNKNOWN):
        return result.status, result.next_update, result.der
    return "Failed", None, None


# Verdicts of contract_certificate_status (the handler shapes them for the wire).
UNVERIFIED_ACCEPTED = "UnverifiedAccepted"


def contract_certificate_status(*, hash_data: list[dict]) -> str:
    """The verdict on an ISO 15118 contract certificate chain a station sends as
    iso15118CertificateHashData (Authorize, OCPP 2.x C07.FR.05: "verify validity of the
    certificate and certificate chain via real-time or cached OCSP data"). Every entry must be
    Good; the first that is not decides: ocsp.REVOKED, ocsp.UNKNOWN, ocsp.BAD_SIGNATURE, or
    ocsp.FAILED (no status could be obtained) -- which local policy may turn into
    UNVERIFIED_ACCEPTED (settings.OCPP_OCSP_ACCEPT_UNVERIFIED)."""
    from django.conf import settings

    for entry in hash_data:
        found = _ours_by_hash(entry)
        if found is not None:
            status = _own_status(found)[0]
        else:
            result = ocsp.status_lookup(entry)
            status = result.status
            if status == ocsp.GOOD and not result.signature_verified:
                # No certificate in the response to check its signature with (the station sends
                # hashes, not the issuer): we cannot vouch for a Good we could not verify.
                status = ocsp.FAILED
            if status != ocsp.GOOD:
                log.info("contract certificate %s: %s %s", ocsp.responder_url(entry), status, result.reason)
        if status != ocsp.GOOD:
            if status == ocsp.FAILED and settings.OCPP_OCSP_ACCEPT_UNVERIFIED:
                return UNVERIFIED_ACCEPTED
            return status
    return ocsp.GOOD
