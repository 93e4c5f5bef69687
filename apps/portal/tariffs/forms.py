"""Tariff page forms: the price preview calculator and the assignment."""

from decimal import Decimal

from django import forms

from apps.chargers.models import ChargerGroup, Location
from apps.core.validators import DateTimeField
from apps.tariffs.models import TariffAssignment


class PreviewForm(forms.Form):
    start = DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, initial=45, label="Duration (minutes)")
    energy_kwh = forms.DecimalField(
        min_value=0, max_digits=9, decimal_places=3, initial=Decimal("30"), label="Energy (kWh)"
    )
    max_power_kw = forms.DecimalField(
        min_value=0, max_digits=7, decimal_places=2, initial=Decimal("22"), required=False, label="Charging power (kW)"
    )
    parking_minutes = forms.IntegerField(min_value=0, initial=0, label="Parked after charging (minutes)")


class AssignForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[
            (TariffAssignment.Scope.ORGANIZATION, "Whole organisation"),
            (TariffAssignment.Scope.LOCATION, "A location"),
            (TariffAssignment.Scope.CHARGER_GROUP, "A charger group"),
            (TariffAssignment.Scope.EVSE, "One EVSE (charger/evse)"),
        ]
    )
    location = forms.ModelChoiceField(queryset=Location.objects.none(), required=False)
    charger_group = forms.ModelChoiceField(queryset=ChargerGroup.objects.none(), required=False)
    evse = forms.CharField(required=False, help_text="e.g. CP-001/1", max_length=100)
    priority = forms.IntegerField(initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.order_by("name")
        self.fields["charger_group"].queryset = ChargerGroup.objects.order_by("name")
