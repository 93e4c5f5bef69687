import datetime as dt

from django import forms


class FinanceFilterForm(forms.Form):
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.CharField(required=False)
    driver = forms.CharField(required=False, max_length=100)
    charger = forms.CharField(required=False, max_length=48)

    def filters(self) -> dict:
        """The valid filters (an invalid date is ignored rather than failing the page)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        out = {name: data.get(name) or "" for name in ("status", "driver", "charger")}
        for name in ("date_from", "date_to"):
            value = data.get(name)
            out[name] = value if isinstance(value, dt.date) else None
        return {k: v.strip() if isinstance(v, str) else v for k, v in out.items()}
