"""Device model forms: network profile, security profile upgrade, vendor templates and
applying one."""

from __future__ import annotations

import json

from django import forms

from apps.csms.protocol import CALL, V2_ERRORS, FrameError, validate
from apps.devicemodel.models import VendorTemplate
from apps.devicemodel.vendortemplates import (
    template_lines_format,
)


class NetworkProfileForm(forms.Form):
    configuration_slot = forms.IntegerField(min_value=0, initial=1)
    csms_url = forms.CharField(max_length=512, label="CSMS URL", help_text="ws(s)://…/ocpp/<identity>")
    security_profile = forms.IntegerField(min_value=1, max_value=3, initial=1)
    ocpp_interface = forms.ChoiceField(
        choices=[(v, v) for v in ("Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2")]
    )
    message_timeout = forms.IntegerField(min_value=1, initial=30)


class ProfileUpgradeForm(forms.Form):
    target_profile = forms.IntegerField(min_value=1, max_value=3)
    configuration_slot = forms.IntegerField(min_value=0)
    csms_url = forms.CharField(max_length=512)
    ocpp_interface = forms.ChoiceField(choices=NetworkProfileForm.base_fields["ocpp_interface"].choices)
    message_timeout = forms.IntegerField(min_value=1, initial=30)
    reset_type = forms.ChoiceField(choices=[("OnIdle", "OnIdle"), ("Immediate", "Immediate")])


class VendorTemplateForm(forms.ModelForm):
    variables_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "payload"}),
        label="Variables",
        help_text="One per line: <code>Component.Variable = value</code>, e.g. "
        "<code>OCPPCommCtrlr.OfflineThreshold = 300</code>, <code>EVSE@1.AvailabilityState/Target = Available</code>,"
        " <code>Component[instance]@evse:connector.Variable[instance] = value</code>. # starts a comment.",
    )
    network_profile_json = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "payload"}),
        label="Network profile (optional)",
        help_text='SetNetworkProfile payload, e.g. {"configurationSlot": 1, "connectionData": {"ocppVersion": '
        '"OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://…", "messageTimeout": 30, '
        '"securityProfile": 2, "ocppInterface": "Wired0"}}',
    )

    class Meta:
        model = VendorTemplate
        fields = ("name", "enabled", "vendor", "model", "firmware_prefix", "auto_accept", "apply_on_accepted_boot")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["variables_text"] = template_lines_format(self.instance.variables)
            if self.instance.network_profile:
                self.initial["network_profile_json"] = json.dumps(self.instance.network_profile, indent=2)

    def clean_network_profile_json(self):
        raw = self.cleaned_data["network_profile_json"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from None

        try:
            validate(version="2.0.1", message_type=CALL, action="SetNetworkProfile", payload=value, errors=V2_ERRORS)
        except FrameError as exc:
            raise forms.ValidationError(exc.description) from None
        return value


class TemplateApplyForm(forms.Form):
    template = forms.ModelChoiceField(queryset=VendorTemplate.objects.all())
