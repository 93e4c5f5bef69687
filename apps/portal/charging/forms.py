"""The session list's filters (also the CSV export's)."""

from django import forms
from django.core.exceptions import BadRequest


class SessionFilterForm(forms.Form):
    q = forms.CharField(required=False)
    status = forms.CharField(required=False)
    # A primary key: parsed here, or "abc" would reach the query as location_id and fail there.
    location = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    charger = forms.CharField(required=False)
    driver = forms.CharField(required=False)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def filters(self) -> dict:
        """The selector's keyword arguments. A value that does not parse is a 400 (BadRequest)
        naming the field, rather than silently no filter: the list would look filtered."""
        if not self.is_valid():
            raise BadRequest("; ".join(f"{name}: {' '.join(errors)}" for name, errors in self.errors.items()))
        data = self.cleaned_data
        return {
            **data,
            "location": data["location"] or "",
            **{k: data[k] or "" for k in ("q", "status", "charger", "driver")},
        }
