"""Smart charging and firmware pages: a charger's profiles, limits and composite schedule
(/chargers/<identity>/smart-charging/), its firmware updates (/chargers/<identity>/firmware/)
and firmware campaigns over many chargers (/firmware/campaigns/)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import role_required
from apps.accounts.policy import allowed
from apps.chargers.models import ProtocolVersion
from apps.portal import ui
from apps.portal.smartcharging.forms import CampaignForm, FirmwareForm, LimitForm
from apps.smartcharging import firmware as fw
from apps.smartcharging import selectors
from apps.smartcharging import services as sc
from apps.smartcharging.models import ChargingProfile, FirmwareCampaign


def _report(request, what: str, outcome: sc.CommandOutcome) -> None:
    if outcome.status == "ok":
        text = f"{what}: {outcome.answer or 'done'}."
        info = (outcome.response or {}).get("statusInfo")
        if info:
            text += f" ({info.get('reasonCode', '')} {info.get('additionalInfo', '')})".replace(" )", ")")
        (messages.success if outcome.ok else messages.warning)(request, text)
    else:
        messages.error(request, f"{what}: {outcome.message or outcome.status}")


def _flash_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@role_required("smartcharging.view")
def charger_smart_charging(request, identity):
    charge_point = ui.charger_or_404(identity)
    context = {
        "cp": charge_point,
        **selectors.smart_charging_overview(charge_point=charge_point),
        "form": LimitForm(),
        "can_operate": allowed(request.user, "smartcharging.change"),
        "is_v16": charge_point.protocol_version == ProtocolVersion.OCPP16,
    }
    return render(request, "smartcharging/charger.html", context)


@role_required("smartcharging.change")
@require_POST
def charger_profile_set(request, identity):
    charge_point = ui.charger_or_404(identity)
    form = LimitForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form)
        return redirect("portal:charger_smartcharging", identity=identity)
    data = form.cleaned_data
    evse_id = 0 if data["purpose"] == "ChargingStationMaxProfile" else data["evse_id"]
    # Setting the station limit again replaces EVzone's profile (same id) rather than stacking another.
    same = (
        ChargingProfile.objects.filter(
            charge_point=charge_point,
            purpose=data["purpose"],
            evse_id=evse_id,
            stack_level=data["stack_level"],
            source=ChargingProfile.Source.OPERATOR,
        )
        .exclude(status=ChargingProfile.Status.CLEARED)
        .first()
    )
    try:
        profile = sc.charging_profile_build(
            charge_point=charge_point,
            purpose=data["purpose"],
            limit=float(data["limit"]),
            unit=data["unit"],
            evse_id=evse_id,
            stack_level=data["stack_level"],
            number_phases=data.get("number_phases"),
            window_start=data.get("window_start"),
            window_end=data.get("window_end"),
            window_limit=float(data["window_limit"]) if data.get("window_limit") is not None else None,
            profile_id=same.profile_id if same else None,
        )
        outcome = sc.charging_profile_set(
            charge_point=charge_point, evse_id=evse_id, profile=profile, user=request.user, timeout=ui.COMMAND_TIMEOUT
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        _report(request, f"Profile {profile['id']}", outcome)
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required("smartcharging.change")
@require_POST
def charger_profile_clear(request, identity):
    charge_point = ui.charger_or_404(identity)
    raw = request.POST.get("profile_id", "").strip()
    try:
        profile_id = int(raw) if raw else None
    except ValueError:
        messages.error(request, "Unknown profile.")
        return redirect("portal:charger_smartcharging", identity=identity)
    outcome = sc.charging_profile_clear(
        charge_point=charge_point, profile_id=profile_id, user=request.user, timeout=ui.COMMAND_TIMEOUT
    )
    _report(request, f"Clear profile {profile_id}" if profile_id is not None else "Clear all profiles", outcome)
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required("smartcharging.change")
@require_POST
def charger_profiles_read(request, identity):
    charge_point = ui.charger_or_404(identity)
    try:
        outcome = sc.charging_profiles_request(charge_point=charge_point, user=request.user, timeout=ui.COMMAND_TIMEOUT)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _report(request, "Read profiles", outcome)
        if outcome.ok:
            messages.info(request, "The charger sends its profiles in separate messages; reload in a moment.")
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required("smartcharging.change")
@require_POST
def charger_composite_schedule(request, identity):
    charge_point = ui.charger_or_404(identity)
    try:
        evse_id = int(request.POST.get("evse_id") or 0)
        duration = int(request.POST.get("duration") or 86400)
    except ValueError:
        messages.error(request, "EVSE and duration are whole numbers.")
        return redirect("portal:charger_smartcharging", identity=identity)
    unit = request.POST.get("unit", "")
    outcome = sc.composite_schedule_request(
        charge_point=charge_point,
        evse_id=max(evse_id, 0),
        duration=max(min(duration, 7 * 86400), 60),
        unit=unit if unit in ("A", "W") else "",
        user=request.user,
        timeout=ui.COMMAND_TIMEOUT,
    )
    _report(request, "Composite schedule", outcome)
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required("smartcharging.view")
def charger_firmware(request, identity):
    charge_point = ui.charger_or_404(identity)
    context = {
        "cp": charge_point,
        **selectors.charger_firmware_overview(charge_point=charge_point),
        "form": FirmwareForm(),
        "can_operate": allowed(request.user, "smartcharging.change"),
        "is_v16": charge_point.protocol_version == ProtocolVersion.OCPP16,
    }
    return render(request, "smartcharging/firmware.html", context)


@role_required("smartcharging.change")
@require_POST
def charger_firmware_update(request, identity):
    charge_point = ui.charger_or_404(identity)
    form = FirmwareForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form)
        return redirect("portal:charger_firmware", identity=identity)
    data = form.cleaned_data
    try:
        update = fw.firmware_update_create(
            charge_point=charge_point,
            location=data["location"],
            retrieve_at=data["retrieve_at"],
            install_at=data["install_at"],
            signing_certificate=data.get("signing_certificate", ""),
            signature=data.get("signature", ""),
            retries=data.get("retries"),
            retry_interval=data.get("retry_interval"),
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("portal:charger_firmware", identity=identity)
    update = fw.firmware_update_send(update=update, user=request.user, timeout=ui.COMMAND_TIMEOUT)
    label = update.get_answer_display() if update.answer else "sent"
    (messages.success if update.answer in ("Accepted", "AcceptedCanceled") else messages.error)(
        request, f"Firmware update{f' #{update.request_id}' if update.request_id else ''}: {label}."
    )
    return redirect("portal:charger_firmware", identity=identity)


@role_required("smartcharging.change")
@require_POST
def charger_firmware_publish(request, identity):
    charge_point = ui.charger_or_404(identity)
    location = request.POST.get("location", "").strip()
    try:
        if not location:
            raise ValidationError("The firmware URL is required.")
        pub = fw.firmware_publication_create(
            charge_point=charge_point, location=location, checksum=request.POST.get("checksum", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("portal:charger_firmware", identity=identity)
    outcome = sc._send(
        charge_point=charge_point,
        action="PublishFirmware",
        payload={"location": pub.location, "checksum": pub.checksum, "requestId": pub.request_id},
        user=request.user,
        timeout=ui.COMMAND_TIMEOUT,
        source="firmware",
    )
    if outcome.status == "ok":
        fw.firmware_publication_answer_record(
            charge_point_id=charge_point.pk, request_id=pub.request_id, answer=outcome.answer
        )
    _report(request, f"Publish firmware #{pub.request_id}", outcome)
    return redirect("portal:charger_firmware", identity=identity)


@role_required("smartcharging.change")
@require_POST
def charger_firmware_unpublish(request, identity):
    charge_point = ui.charger_or_404(identity)
    checksum = request.POST.get("checksum", "").strip().lower()
    outcome = sc._send(
        charge_point=charge_point,
        action="UnpublishFirmware",
        payload={"checksum": checksum},
        user=request.user,
        timeout=ui.COMMAND_TIMEOUT,
        source="firmware",
    )
    if outcome.status == "ok":
        fw.firmware_unpublished_record(charge_point_id=charge_point.pk, checksum=checksum, answer=outcome.answer)
    _report(request, "Unpublish firmware", outcome)
    return redirect("portal:charger_firmware", identity=identity)


@role_required("smartcharging.view")
def campaign_list(request):
    return render(
        request,
        "smartcharging/campaign_list.html",
        {"rows": selectors.campaign_list(), "can_operate": allowed(request.user, "smartcharging.change")},
    )


@role_required("smartcharging.change")
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = fw.firmware_campaign_create(
                name=data.get("name", ""),
                location=data["location"],
                retrieve_at=data["retrieve_at"],
                install_at=data["install_at"],
                charge_points=data["targets"],
                signing_certificate=data.get("signing_certificate", ""),
                signature=data.get("signature", ""),
                retries=data.get("retries"),
                retry_interval=data.get("retry_interval"),
                user=request.user,
            )
        except ValidationError as exc:
            ui.form_errors(form, exc)
        else:
            messages.success(request, f"Campaign {campaign.name}: sending to {len(data['targets'])} chargers.")
            return redirect("portal:firmware_campaign", pk=campaign.pk)
    return render(request, "smartcharging/campaign_form.html", {"form": form})


@role_required("smartcharging.view")
def campaign_detail(request, pk):
    campaign = get_object_or_404(FirmwareCampaign, pk=pk)
    context = {
        "campaign": campaign,
        **selectors.campaign_detail(campaign=campaign),
        "can_operate": allowed(request.user, "smartcharging.change"),
    }
    return render(request, "smartcharging/campaign_detail.html", context)


@role_required("smartcharging.change")
@require_POST
def campaign_retry(request, pk):
    campaign = get_object_or_404(FirmwareCampaign, pk=pk)
    count = fw.firmware_campaign_retry(campaign=campaign, user=request.user)
    messages.success(request, f"Sending again to {count} chargers.")
    return redirect("portal:firmware_campaign", pk=pk)
