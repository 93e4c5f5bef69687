"""Certificate reads for pages, commands and tasks."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.certificates.models import CertificateAuthority, InstalledCertificate, IssuedCertificate


def ca_list():
    return CertificateAuthority.objects.select_related("parent").order_by("-active", "kind", "-created_at")


def issued_for_charger(*, charge_point):
    return IssuedCertificate.objects.filter(charge_point=charge_point).select_related("issuer")


def installed_for_charger(*, charge_point):
    return InstalledCertificate.objects.filter(charge_point=charge_point)


def certificates_expiring(*, days: int = 30) -> list[dict]:
    """Active CA certificates and the newest unrevoked certificate of each charger and type
    that expire within `days` (or already expired)."""
    limit = timezone.now() + timedelta(days=days)
    rows = [
        {"kind": ca.get_kind_display(), "name": ca.subject, "not_after": ca.not_after}
        for ca in CertificateAuthority.objects.filter(active=True, not_after__lte=limit)
    ]
    newest: dict[tuple, IssuedCertificate] = {}
    for cert in IssuedCertificate.objects.filter(revoked_at__isnull=True).order_by("not_after"):
        newest[(cert.identity, cert.certificate_type)] = cert  # the latest not_after wins
    rows += [
        {"kind": cert.get_certificate_type_display(), "name": cert.identity, "not_after": cert.not_after}
        for cert in newest.values()
        if cert.not_after <= limit
    ]
    return sorted(rows, key=lambda r: r["not_after"])
