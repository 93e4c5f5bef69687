"""Payment page forms: refunds, gateway settings, a driver's card preference."""

from django import forms

from apps.payments.gateways import CREDENTIAL_FIELDS, PUBLIC_FIELDS
from apps.payments.models import Provider


class RefundForm(forms.Form):
    amount = forms.DecimalField(required=False, max_digits=18, decimal_places=4, min_value=0)
    reason = forms.CharField(max_length=255)
    key = forms.CharField(widget=forms.HiddenInput)


class GatewayForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)
    live = forms.BooleanField(required=False, help_text="Off: the gateway's test environment.")
    preauth_amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=1)

    def __init__(self, *args, stored: dict | None = None, platform: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if platform:  # offered only when the platform has an account configured (environment)
            names = ", ".join(p.title() for p in platform)
            self.fields["use_platform"] = forms.BooleanField(
                required=False,
                label=f"Use the platform's account ({names})",
                help_text="No credentials of your own needed; the platform's fees and payout terms apply.",
            )
            self.order_fields(["provider", "use_platform"])
        stored = stored or {}
        for provider, fields in CREDENTIAL_FIELDS.items():
            for name, label in fields.items():
                if name in PUBLIC_FIELDS:
                    # Publishable / client keys are meant for browsers: shown back like any setting.
                    self.fields[f"{provider}__{name}"] = forms.CharField(
                        label=f"{provider.title()}: {label}",
                        required=False,
                        initial=stored.get(provider, {}).get(name, ""),
                    )
                    continue
                # render_value=False: a stored secret is never sent to the browser.
                self.fields[f"{provider}__{name}"] = forms.CharField(
                    label=f"{provider.title()}: {label}",
                    required=False,
                    widget=forms.PasswordInput(render_value=False),
                    help_text="Leave empty to keep the stored value.",
                )

    def credentials(self) -> dict:
        prefix = f"{self.cleaned_data['provider']}__"
        return {k[len(prefix) :]: v for k, v in self.cleaned_data.items() if k.startswith(prefix)}


class PreferenceForm(forms.Form):
    by_card = forms.BooleanField(
        required=False,
        label="Pay my charging sessions with my default card",
        help_text="Off: your wallet pays when you have one; your card pays only when no wallet does.",
    )
