"""Local authorisation list forms."""

from django import forms

from apps.chargers.models import ChargePoint, Location
from apps.charging.models import IdToken, LocalAuthList


class LocalAuthListForm(forms.ModelForm):
    group_ids = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Groups",
        help_text="Mode “cards of chosen groups”: cards whose group (parentIdTag) is one of these.",
    )
    tokens = forms.ModelMultipleChoiceField(
        queryset=IdToken.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        label="Cards",
        help_text="Mode “chosen cards”.",
    )
    charge_points = forms.ModelMultipleChoiceField(
        queryset=ChargePoint.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Chargers"
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Locations",
        help_text="Every charger at these locations carries the list too.",
    )

    class Meta:
        model = LocalAuthList
        fields = ("name", "mode", "group_ids", "include_refused", "tokens", "charge_points", "locations")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = set(IdToken.objects.exclude(group_id="").values_list("group_id", flat=True).distinct())
        known |= set(self.instance.group_ids or []) if self.instance.pk else set()
        self.fields["group_ids"].choices = [(g, g) for g in sorted(known)]
        self.fields["tokens"].queryset = IdToken.objects.order_by("id_token")
        self.fields["charge_points"].queryset = ChargePoint.objects.order_by("identity")
        self.fields["locations"].queryset = Location.objects.order_by("name")
        if self.instance.pk:
            self.initial["group_ids"] = self.instance.group_ids
            self.initial["tokens"] = list(self.instance.tokens.all())
            self.initial["charge_points"] = list(self.instance.charge_points.all())
            self.initial["locations"] = list(self.instance.locations.all())

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if LocalAuthList.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A list with this name already exists.")
        return name
