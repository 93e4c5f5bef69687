"""RFID card (id token) forms."""

from django import forms

from apps.accounts.models import User
from apps.charging.models import IdToken


class IdTokenForm(forms.ModelForm):
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text="The driver who carries this card (optional)."
    )

    class Meta:
        model = IdToken
        fields = ("id_token", "type", "label", "owner", "group_id", "status", "expires_at")
        widgets = {"expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("email")
        if self.instance.pk:
            self.fields["id_token"].disabled = True  # the card's UID never changes; issue a new card

    def clean_id_token(self):
        value = self.cleaned_data["id_token"].strip()
        if not self.instance.pk and IdToken.objects.filter(id_token__iexact=value).exists():
            # idTags are case-insensitive on the wire (CiString), so 04a1 and 04A1 are one card.
            raise forms.ValidationError("This id token already exists.")
        return value
