"""The session list's filters (also the CSV export's)."""

from django import forms


class SessionFilterForm(forms.Form):
    q = forms.CharField(required=False)
    status = forms.CharField(required=False)
    location = forms.CharField(required=False)
    charger = forms.CharField(required=False)
    driver = forms.CharField(required=False)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def filters(self) -> dict:
        """The selector's keyword arguments. A value that does not parse (a date) is no filter
        rather than an error: these are filter boxes."""
        self.is_valid()
        return {name: self.cleaned_data.get(name, None if name.startswith("date_") else "") for name in self.fields}
