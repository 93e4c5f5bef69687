"""Forms for the billing pages (the finance filter is shared with the API: apps/billing/forms.py)."""

from decimal import Decimal

from django import forms


class CreditNoteForm(forms.Form):
    amount_incl_vat = forms.DecimalField(
        required=False,
        min_value=Decimal("0.0001"),
        max_digits=18,
        decimal_places=4,
        help_text="Leave empty to credit everything that is left of the invoice.",
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
