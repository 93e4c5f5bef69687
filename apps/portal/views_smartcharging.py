"""Smart charging and firmware pages: a charger's profiles, limits and composite schedule
(/chargers/<identity>/smart-charging/), its firmware updates (/chargers/<identity>/firmware/)
and firmware campaigns over many chargers (/firmware/campaigns/)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.permissions import CAN_OPERATE_CHARGERS, CAN_VIEW_PORTAL, role_required
from apps.chargers.models import ChargePoint, ChargerGroup, Location, ProtocolVersion
from apps.portal.views import _form_errors
from apps.smartcharging import firmware as fw
from apps.smartcharging import selectors
from apps.smartcharging import services as sc
from apps.smartcharging.models import ChargingProfile, FirmwareCampaign

COMMAND_TIMEOUT = 20


def _report(request, what: str, outcome: sc.CommandOutcome) -> None:
    if outcome.status == "ok":
        text = f"{what}: {outcome.answer or 'done'}."
        info = (outcome.response or {}).get("statusInfo")
        if info:
            text += f" ({info.get('reasonCode', '')} {info.get('additionalInfo', '')})".replace(" )", ")")
        (messages.success if outcome.ok else messages.warning)(request, text)
    else:
        messages.error(request, f"{what}: {outcome.message or outcome.status}")


# --------------------------------------------------------------------------- smart charging


class LimitForm(forms.Form):
    purpose = forms.ChoiceField(
        choices=[("ChargingStationMaxProfile", "Station maximum"), ("TxDefaultProfile", "Default for every session")]
    )
    evse_id = forms.IntegerField(min_value=0, initial=0, label="EVSE", help_text="0: the whole station.")
    limit = forms.DecimalField(min_value=0, max_digits=8, decimal_places=1)
    unit = forms.ChoiceField(choices=[("A", "A (per phase)"), ("W", "W")], initial="A")
    number_phases = forms.TypedChoiceField(
        choices=[("", "—"), ("1", "1"), ("3", "3")], coerce=int, empty_value=None, required=False
    )
    stack_level = forms.IntegerField(min_value=0, initial=0)
    window_start = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    window_end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    window_limit = forms.DecimalField(min_value=0, max_digits=8, decimal_places=1, required=False)

    def clean(self):
        data = super().clean()
        window = [data.get("window_start"), data.get("window_end"), data.get("window_limit")]
        if any(v is not None for v in window) and not all(v is not None for v in window):
            raise forms.ValidationError("A daily window needs a start, an end and its limit.")
        return data


def _flash_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _cp(identity):
    return get_object_or_404(ChargePoint.objects.select_related("location"), identity=identity)


@role_required(CAN_VIEW_PORTAL)
def charger_smart_charging(request, identity):
    charge_point = _cp(identity)
    context = {
        "cp": charge_point,
        **selectors.smart_charging_overview(charge_point=charge_point),
        "form": LimitForm(),
        "can_operate": request.user.role in CAN_OPERATE_CHARGERS,
        "is_v16": charge_point.protocol_version == ProtocolVersion.OCPP16,
    }
    return render(request, "smartcharging/charger.html", context)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_profile_set(request, identity):
    charge_point = _cp(identity)
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
            charge_point=charge_point, evse_id=evse_id, profile=profile, user=request.user, timeout=COMMAND_TIMEOUT
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        _report(request, f"Profile {profile['id']}", outcome)
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_profile_clear(request, identity):
    charge_point = _cp(identity)
    raw = request.POST.get("profile_id", "").strip()
    try:
        profile_id = int(raw) if raw else None
    except ValueError:
        messages.error(request, "Unknown profile.")
        return redirect("portal:charger_smartcharging", identity=identity)
    outcome = sc.charging_profile_clear(
        charge_point=charge_point, profile_id=profile_id, user=request.user, timeout=COMMAND_TIMEOUT
    )
    _report(request, f"Clear profile {profile_id}" if profile_id is not None else "Clear all profiles", outcome)
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_profiles_read(request, identity):
    charge_point = _cp(identity)
    try:
        outcome = sc.charging_profiles_request(charge_point=charge_point, user=request.user, timeout=COMMAND_TIMEOUT)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _report(request, "Read profiles", outcome)
        if outcome.ok:
            messages.info(request, "The charger sends its profiles in separate messages; reload in a moment.")
    return redirect("portal:charger_smartcharging", identity=identity)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_composite_schedule(request, identity):
    charge_point = _cp(identity)
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
        timeout=COMMAND_TIMEOUT,
    )
    _report(request, "Composite schedule", outcome)
    return redirect("portal:charger_smartcharging", identity=identity)


# --------------------------------------------------------------------------- firmware


def _aware(value):
    if value is None:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


class FirmwareForm(forms.Form):
    location = forms.URLField(
        max_length=512, label="Firmware URL", assume_scheme="https", widget=forms.URLInput(attrs={"size": 40})
    )
    retrieve_at = forms.DateTimeField(
        required=False,
        label="Download from",
        help_text="Empty: now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    install_at = forms.DateTimeField(
        required=False, label="Install at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    signing_certificate = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Signing certificate (PEM, signed firmware)"
    )
    signature = forms.CharField(required=False, max_length=800, label="Signature (base64)")
    retries = forms.IntegerField(required=False, min_value=0)
    retry_interval = forms.IntegerField(required=False, min_value=0, label="Retry interval (s)")

    def clean(self):
        data = super().clean()
        data["retrieve_at"] = _aware(data.get("retrieve_at")) or timezone.now()
        data["install_at"] = _aware(data.get("install_at"))
        if bool(data.get("signing_certificate")) != bool(data.get("signature")):
            raise forms.ValidationError("Signed firmware needs both the signing certificate and the signature.")
        return data


class CampaignForm(FirmwareForm):
    name = forms.CharField(max_length=120, required=False)
    group = forms.ModelChoiceField(queryset=ChargerGroup.objects.none(), required=False, label="Charger group")
    site = forms.ModelChoiceField(queryset=Location.objects.none(), required=False, label="Every charger at")
    charge_points = forms.ModelMultipleChoiceField(
        queryset=ChargePoint.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Chargers"
    )

    field_order = ["name", "location", "retrieve_at", "install_at", "group", "site", "charge_points"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = ChargerGroup.objects.order_by("name")
        self.fields["site"].queryset = Location.objects.order_by("name")
        self.fields["charge_points"].queryset = ChargePoint.objects.order_by("identity")

    def clean(self):
        data = super().clean()
        targets = fw.campaign_targets(
            charge_points=data.get("charge_points") or [], group=data.get("group"), location=data.get("site")
        )
        if not targets:
            raise forms.ValidationError("Choose chargers: a group, a location or single chargers.")
        data["targets"] = targets
        return data


@role_required(CAN_VIEW_PORTAL)
def charger_firmware(request, identity):
    charge_point = _cp(identity)
    context = {
        "cp": charge_point,
        **selectors.charger_firmware_overview(charge_point=charge_point),
        "form": FirmwareForm(),
        "can_operate": request.user.role in CAN_OPERATE_CHARGERS,
        "is_v16": charge_point.protocol_version == ProtocolVersion.OCPP16,
    }
    return render(request, "smartcharging/firmware.html", context)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_firmware_update(request, identity):
    charge_point = _cp(identity)
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
    update = fw.firmware_update_send(update=update, user=request.user, timeout=COMMAND_TIMEOUT)
    label = update.get_answer_display() if update.answer else "sent"
    (messages.success if update.answer in ("Accepted", "AcceptedCanceled") else messages.error)(
        request, f"Firmware update{f' #{update.request_id}' if update.request_id else ''}: {label}."
    )
    return redirect("portal:charger_firmware", identity=identity)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_firmware_publish(request, identity):
    charge_point = _cp(identity)
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
        timeout=COMMAND_TIMEOUT,
        source="firmware",
    )
    if outcome.status == "ok":
        fw.firmware_publication_answer_record(
            charge_point_id=charge_point.pk, request_id=pub.request_id, answer=outcome.answer
        )
    _report(request, f"Publish firmware #{pub.request_id}", outcome)
    return redirect("portal:charger_firmware", identity=identity)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def charger_firmware_unpublish(request, identity):
    charge_point = _cp(identity)
    checksum = request.POST.get("checksum", "").strip().lower()
    outcome = sc._send(
        charge_point=charge_point,
        action="UnpublishFirmware",
        payload={"checksum": checksum},
        user=request.user,
        timeout=COMMAND_TIMEOUT,
        source="firmware",
    )
    if outcome.status == "ok":
        fw.firmware_unpublished_record(charge_point_id=charge_point.pk, checksum=checksum, answer=outcome.answer)
    _report(request, "Unpublish firmware", outcome)
    return redirect("portal:charger_firmware", identity=identity)


@role_required(CAN_VIEW_PORTAL)
def campaign_list(request):
    return render(
        request,
        "smartcharging/campaign_list.html",
        {"rows": selectors.campaign_list(), "can_operate": request.user.role in CAN_OPERATE_CHARGERS},
    )


@role_required(CAN_OPERATE_CHARGERS)
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
            _form_errors(form, exc)
        else:
            messages.success(request, f"Campaign {campaign.name}: sending to {len(data['targets'])} chargers.")
            return redirect("portal:firmware_campaign", pk=campaign.pk)
    return render(request, "smartcharging/campaign_form.html", {"form": form})


@role_required(CAN_VIEW_PORTAL)
def campaign_detail(request, pk):
    campaign = get_object_or_404(FirmwareCampaign, pk=pk)
    context = {
        "campaign": campaign,
        **selectors.campaign_detail(campaign=campaign),
        "can_operate": request.user.role in CAN_OPERATE_CHARGERS,
    }
    return render(request, "smartcharging/campaign_detail.html", context)


@role_required(CAN_OPERATE_CHARGERS)
@require_POST
def campaign_retry(request, pk):
    campaign = get_object_or_404(FirmwareCampaign, pk=pk)
    count = fw.firmware_campaign_retry(campaign=campaign, user=request.user)
    messages.success(request, f"Sending again to {count} chargers.")
    return redirect("portal:firmware_campaign", pk=pk)
