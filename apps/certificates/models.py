"""Certificates (tenant schema): the organisation's own certificate authority, the
certificates it issued to chargers (OCPP SignCertificate → CertificateSigned), and the
certificates chargers report as installed (GetInstalledCertificateIds).

One schema per organisation, so every row here belongs to that organisation's CA.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class CertificateAuthority(models.Model):
    """One CA certificate of ours with its private key (Fernet-encrypted, never shown)."""

    class Kind(models.TextChoices):
        ROOT = "root", "Root CA"
        STATION_CA = "station_ca", "ChargingStation CA"
        V2G_ROOT = "v2g_root", "V2G root CA"
        V2G_CA = "v2g_ca", "V2G CPO sub-CA"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    certificate_pem = models.TextField()
    private_key_encrypted = models.TextField(help_text="PKCS#8 PEM, Fernet-encrypted (apps.core.crypto).")
    serial_number = models.CharField(max_length=40, help_text="Hex, lower case, no leading zeros (OCPP style).")
    subject = models.CharField(max_length=500)
    issuer = models.CharField(max_length=500)
    organization_name = models.CharField(max_length=200, help_text="The O (organizationName) RDN of the subject.")
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    fingerprint_sha256 = models.CharField(max_length=64)
    fingerprint_sha1 = models.CharField(max_length=40)
    # A superseded CA stays (its issued certificates still point at it) but signs nothing new.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(active=True), name="cert_one_active_ca_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class IssuedCertificate(models.Model):
    """A certificate our CA signed for a charger, and what became of its delivery."""

    class Type(models.TextChoices):
        CHARGING_STATION = "ChargingStationCertificate", "Charging station (OCPP client)"
        V2G = "V2GCertificate", "V2G (ISO 15118 SECC)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted by the charger"
        REJECTED = "rejected", "Rejected by the charger"
        FAILED = "failed", "Not delivered"

    charge_point = models.ForeignKey(
        "chargers.ChargePoint", null=True, on_delete=models.SET_NULL, related_name="issued_certificates"
    )
    # Kept when the charger is deleted: a certificate outlives its record and may need revoking.
    identity = models.CharField(max_length=48)
    certificate_type = models.CharField(max_length=32, choices=Type.choices, default=Type.CHARGING_STATION)
    issuer = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="issued")
    serial_number = models.CharField(max_length=40, unique=True)
    subject = models.CharField(max_length=500)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    fingerprint_sha256 = models.CharField(max_length=64)
    certificate_pem = models.TextField()
    csr_pem = models.TextField()
    # OCPP 2.1 SignCertificateRequest.requestId, echoed in CertificateSigned.
    request_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_info = models.CharField(max_length=600, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["not_after"], name="cert_issued_not_after")]

    def __str__(self) -> str:
        return f"{self.certificate_type} {self.serial_number} ({self.identity})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class InstalledCertificate(models.Model):
    """A certificate a charger holds, as it reported it (certificateHashData), or as we
    installed it (then the PEM is known too)."""

    charge_point = models.ForeignKey(
        "chargers.ChargePoint", on_delete=models.CASCADE, related_name="installed_certificates"
    )
    # 2.x GetCertificateIdUseEnumType / InstallCertificateUseEnumType, 1.6 CertificateUseEnumType.
    certificate_type = models.CharField(max_length=40)
    hash_algorithm = models.CharField(max_length=8, default="SHA256")
    issuer_name_hash = models.CharField(max_length=128)
    issuer_key_hash = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=40)
    child_certificate_hash_data = models.JSONField(default=list, blank=True)
    # Known when EVzone installed it or recognises it as one of its own CA certificates.
    certificate_pem = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    # True once the charger itself listed it (GetInstalledCertificateIds).
    reported = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["certificate_type", "subject", "serial_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "hash_algorithm", "issuer_name_hash", "issuer_key_hash", "serial_number"],
                name="cert_installed_unique_hash",
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_type} {self.serial_number}"

    def hash_data(self) -> dict:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }
