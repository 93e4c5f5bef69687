"""The reserve form."""

from django import forms

from apps.charging.models import IdToken
from apps.charging.reservations import MAX_MINUTES


class ReserveForm(forms.Form):
    id_token = forms.CharField(label="Card (id token)", max_length=255)
    evse_id = forms.IntegerField(label="EVSE / connector", min_value=0)
    minutes = forms.IntegerField(label="For (minutes)", min_value=1, max_value=MAX_MINUTES, initial=30)

    def clean_id_token(self):
        token = IdToken.objects.filter(id_token__iexact=self.cleaned_data["id_token"].strip()).first()
        if token is None:
            raise forms.ValidationError("No card with this id token.")
        return token
