"""Certificate pages: the organisation's CA (/certificates/) and one charger's certificates
(/chargers/<identity>/certificates/): what our CA issued to it, what it reports as installed,
and the commands that change that (InstallCertificate, GetInstalledCertificateIds,
DeleteCertificate, a renewal trigger). Private keys never leave the database."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.certificates import pki, selectors
from apps.certificates import services as certificates
from apps.certificates.models import CertificateAuthority, InstalledCertificate, IssuedCertificate
from apps.chargers.models import ProtocolVersion
from apps.portal import ui

ACCEPTED = ("Accepted",)


MAX_UPLOAD = 20_000


# What an operator may install (2.0.1 InstallCertificateUseEnumType; 1.6 knows the first two).
INSTALL_TYPES = [
    ("CSMSRootCertificate", "CSMS root (the CA of the server's TLS certificate)"),
    ("ManufacturerRootCertificate", "Manufacturer root (firmware signing)"),
    ("V2GRootCertificate", "V2G root (ISO 15118)"),
    ("MORootCertificate", "Mobility operator root (ISO 15118 contracts)"),
]


def _pem_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required("certificates.view")
def certificate_authority(request):
    cas = list(selectors.ca_list())
    return render(
        request,
        "certificates/authority.html",
        {
            "cas": cas,
            "has_ca": any(ca.kind == CertificateAuthority.Kind.ROOT and ca.active for ca in cas),
            "has_v2g": any(ca.kind == CertificateAuthority.Kind.V2G_ROOT and ca.active for ca in cas),
            "expiring": selectors.certificates_expiring(days=30),
            "issued": IssuedCertificate.objects.select_related("issuer")[:100],
            "default_name": request.tenant.name if getattr(request, "tenant", None) else "",
            "can_manage": allowed(request.user, "certificates.authority"),
            "can_operate": allowed(request.user, "certificates.install"),
        },
    )


@role_required("certificates.authority")
@require_POST
def certificate_authority_create(request):
    name = request.POST.get("organization_name", "").strip()[:64]
    if request.POST.get("kind") == "v2g":
        certificates.v2g_ca_create(organization_name=name)
        messages.success(request, "Created the V2G root and CPO sub-CA: V2G certificates are signed from now on.")
    else:
        pair = certificates.ca_ensure(organization_name=name)
        messages.success(request, f"Certificate authority ready: {pair.root.subject}.")
    return redirect("portal:certificate_authority")


@role_required("certificates.view")
def certificate_authority_download(request, pk):
    """The public certificate of one of our CAs, with `?chain=1` its issuers as well."""
    ca = get_object_or_404(CertificateAuthority, pk=pk)
    text, node = ca.certificate_pem.strip() + "\n", ca
    if request.GET.get("chain"):
        while node.parent_id:
            node = node.parent
            text += node.certificate_pem.strip() + "\n"
    return _pem_response(text, f"evzone-{ca.kind}-{ca.serial_number[:12]}.pem")


@role_required("certificates.view")
def charger_certificates(request, identity):
    charge_point = ui.charger_or_404(identity)
    is16 = charge_point.protocol_version == ProtocolVersion.OCPP16
    return render(
        request,
        "certificates/charger.html",
        {
            "cp": charge_point,
            "issued": selectors.issued_for_charger(charge_point=charge_point),
            "installed": selectors.installed_for_charger(charge_point=charge_point),
            "install_types": INSTALL_TYPES[:2] if is16 else INSTALL_TYPES,
            "has_ca": certificates.active_ca(CertificateAuthority.Kind.ROOT) is not None,
            "has_v2g": certificates.active_ca(CertificateAuthority.Kind.V2G_CA) is not None,
            "is16": is16,
            "can_operate": allowed(request.user, "certificates.install"),
            "can_revoke": allowed(request.user, "certificates.authority"),
        },
    )


@role_required("certificates.install")
@require_POST
def charger_certificate_install(request, identity):
    """Install our CSMS root (the organisation's root CA), our V2G root, or a pasted / uploaded PEM."""
    charge_point = ui.charger_or_404(identity)
    source = request.POST.get("source", "")
    cert_type = request.POST.get("certificate_type", "")
    if source == "csms_root":
        pem, cert_type = certificates.ca_ensure().root.certificate_pem, "CSMSRootCertificate"
    elif source == "v2g_root":
        root = certificates.active_ca(CertificateAuthority.Kind.V2G_ROOT)
        if root is None:
            messages.error(request, "There is no V2G root yet (organisation certificates page).")
            return redirect("portal:charger_certificates", identity=identity)
        pem, cert_type = root.certificate_pem, "V2GRootCertificate"
    else:
        upload = request.FILES.get("file")
        pem = upload.read(MAX_UPLOAD + 1).decode("ascii", "replace") if upload else request.POST.get("pem", "")
        if len(pem) > MAX_UPLOAD:
            messages.error(request, "That file is too large for a certificate.")
            return redirect("portal:charger_certificates", identity=identity)
    if cert_type not in dict(INSTALL_TYPES):
        messages.error(request, "Choose the kind of certificate.")
        return redirect("portal:charger_certificates", identity=identity)
    try:
        payload = certificates.install_payload(charge_point=charge_point, certificate_type=cert_type, pem=pem)
    except certificates.CertificateError as exc:
        messages.error(request, str(exc))
        return redirect("portal:charger_certificates", identity=identity)
    ui.command_flash(request, charge_point, "InstallCertificate", payload, ok=ACCEPTED)
    return redirect("portal:charger_certificates", identity=identity)


@role_required("certificates.install")
@require_POST
def charger_certificate_refresh(request, identity):
    charge_point = ui.charger_or_404(identity)
    for payload in certificates.installed_ids_payloads(charge_point=charge_point):
        ui.command_flash(request, charge_point, "GetInstalledCertificateIds", payload, ok=ACCEPTED)
    return redirect("portal:charger_certificates", identity=identity)


@role_required("certificates.install")
@require_POST
def charger_certificate_delete(request, identity, pk):
    charge_point = ui.charger_or_404(identity)
    installed = get_object_or_404(InstalledCertificate, pk=pk, charge_point=charge_point)
    payload = {"certificateHashData": installed.hash_data()}
    ui.command_flash(request, charge_point, "DeleteCertificate", payload, ok=ACCEPTED)
    return redirect("portal:charger_certificates", identity=identity)


@role_required("certificates.install")
@require_POST
def charger_certificate_renew(request, identity):
    charge_point = ui.charger_or_404(identity)
    cert_type = pki.V2G if request.POST.get("certificate_type") == pki.V2G else pki.CHARGING_STATION
    action, payload = certificates.renewal_trigger(charge_point=charge_point, certificate_type=cert_type)
    if ui.command_flash(request, charge_point, action, payload, ok=ACCEPTED):
        messages.info(request, "A charger that accepted sends a new CSR; the signed certificate follows by itself.")
    return redirect("portal:charger_certificates", identity=identity)


@role_required("certificates.authority")
@require_POST
def issued_certificate_revoke(request, pk):
    issued = get_object_or_404(IssuedCertificate, pk=pk)
    certificates.issued_certificate_revoke(issued=issued, reason=request.POST.get("reason", "").strip())
    messages.success(
        request,
        f"Certificate {issued.serial_number} of {issued.identity} is revoked. Status requests now answer "
        "Revoked; a TLS proxy that checks client certificates needs its revocation list updated too.",
    )
    if request.POST.get("next") == "ca":
        return redirect("portal:certificate_authority")
    return redirect("portal:charger_certificates", identity=issued.identity)


@role_required("certificates.view")
def issued_certificate_download(request, pk):
    issued = get_object_or_404(IssuedCertificate.objects.select_related("issuer"), pk=pk)
    return _pem_response(certificates.certificate_chain(issued), f"{issued.identity}-{issued.serial_number[:12]}.pem")
