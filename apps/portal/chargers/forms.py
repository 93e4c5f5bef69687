"""Charger page forms: a connector's physical attributes, a connector declared before the
charger reports it, the registration decision, a 2.x remote start."""

from django import forms

from apps.chargers import ocpi


class ConnectorForm(forms.Form):
    standard = forms.ChoiceField(choices=[("", "—")] + ocpi.choices(ocpi.CONNECTOR_TYPES), required=False)
    format = forms.ChoiceField(choices=[("", "—")] + ocpi.choices(ocpi.CONNECTOR_FORMATS), required=False)
    power_type = forms.ChoiceField(choices=[("", "—")] + ocpi.choices(ocpi.POWER_TYPES), required=False)
    max_voltage = forms.IntegerField(required=False, min_value=1, label="Max V")
    max_amperage = forms.IntegerField(required=False, min_value=1, label="Max A")
    max_electric_power = forms.IntegerField(required=False, min_value=1, label="Max W")
    evse_uid = forms.CharField(required=False, max_length=36, label="EVSE uid")
    ocpi_evse_id = forms.CharField(required=False, max_length=48, label="EVSE ID (eMI3)")
    physical_reference = forms.CharField(required=False, max_length=16, label="Label")


class DeclareForm(ConnectorForm):
    evse_id = forms.IntegerField(min_value=1, label="EVSE")
    connector_id = forms.IntegerField(min_value=1, label="Connector")


class RegistrationForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])


class RemoteStartForm(forms.Form):
    """2.x "Start" from the command panel (1.6 and the raw console post a payload instead)."""

    id_token = forms.CharField()
    id_token_type = forms.CharField(required=False)
    evse_id = forms.IntegerField(required=False, min_value=0)
