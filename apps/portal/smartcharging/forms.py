"""Smart charging and firmware forms: a charging limit, a firmware update, a campaign."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from apps.chargers.models import ChargePoint, ChargerGroup, Location
from apps.core.validators import DateTimeField
from apps.smartcharging import firmware as fw


def _aware(value):
    if value is None:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


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


class FirmwareForm(forms.Form):
    location = forms.URLField(
        max_length=512, label="Firmware URL", assume_scheme="https", widget=forms.URLInput(attrs={"size": 40})
    )
    retrieve_at = DateTimeField(
        required=False,
        label="Download from",
        help_text="Empty: now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    install_at = DateTimeField(
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
