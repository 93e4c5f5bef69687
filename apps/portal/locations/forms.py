"""The location form (OCPI 2.2.1 fields; JSON and opening hours as text fields)."""

import re

from django import forms
from django.core.exceptions import ValidationError

from apps.chargers import ocpi, services
from apps.chargers.models import Location

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


JSON_EXAMPLES = {
    "images": '[{"url": "https://example.com/site.jpg", "category": "LOCATION", "type": "jpeg"}]',
    "directions": '[{"language": "en", "text": "Enter through gate 2, chargers on level -1."}]',
    "energy_mix": '{"is_green_energy": true, "supplier_name": "Green Power AG"}',
    "publish_allowed_to": '[{"group_id": "FLEET-1"}]',
    "exceptional_closings": '[{"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}]',
}


class JSONTextField(forms.JSONField):
    """A JSON textarea that shows nothing (not "null" or "[]") when there is nothing."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "" if value in (None, [], {}) else super().prepare_value(value)


class LocationForm(forms.ModelForm):
    """The model's plain fields plus a per-weekday opening-hours editor; the service
    validates everything (the same rules as the API and imports)."""

    facilities = forms.MultipleChoiceField(
        choices=ocpi.choices(ocpi.FACILITIES), required=False, widget=forms.CheckboxSelectMultiple
    )
    always_open = forms.BooleanField(required=False, label="Open 24/7")
    exceptional_openings = JSONTextField(required=False, help_text="Extra opening periods, same shape as closings.")
    exceptional_closings = JSONTextField(
        required=False, help_text=f"Holidays and closures, e.g. <code>{JSON_EXAMPLES['exceptional_closings']}</code>"
    )

    class Meta:
        model = Location
        fields = (
            "name",
            "address",
            "postal_code",
            "city",
            "state",
            "country",
            "latitude",
            "longitude",
            "time_zone",
            "parking_type",
            "facilities",
            "charging_when_closed",
            "publish",
            "publish_allowed_to",
            "operator_name",
            "operator_website",
            "suboperator_name",
            "suboperator_website",
            "owner_name",
            "owner_website",
            "images",
            "directions",
            "energy_mix",
        )
        field_classes = {name: JSONTextField for name in ("images", "directions", "energy_mix", "publish_allowed_to")}
        help_texts = {
            "country": "ISO 3166-1 alpha-2, e.g. DE (OCPI receives the alpha-3 code).",
            "publish": "Show this location to roaming partners (OCPI). Needs address, city and coordinates.",
            "publish_allowed_to": "Unpublished locations only: who may still see it, e.g. "
            f"<code>{JSON_EXAMPLES['publish_allowed_to']}</code>",
            "images": f"OCPI images, e.g. <code>{JSON_EXAMPLES['images']}</code>",
            "directions": f"Per language, e.g. <code>{JSON_EXAMPLES['directions']}</code>",
            "energy_mix": f"Optional, e.g. <code>{JSON_EXAMPLES['energy_mix']}</code>",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n, day in enumerate(WEEKDAYS, start=1):
            self.fields[f"hours_{n}"] = forms.CharField(
                required=False, label=day, widget=forms.TextInput(attrs={"placeholder": "08:00-20:00"})
            )
        hours = self.instance.opening_times if self.instance.pk else None
        if hours and not self.is_bound:
            self.initial["always_open"] = hours.get("twentyfourseven", False)
            for n in range(1, 8):
                periods = [p for p in hours.get("regular_hours", []) if p["weekday"] == n]
                self.initial[f"hours_{n}"] = ", ".join(f"{p['period_begin']}-{p['period_end']}" for p in periods)
            for key in ("exceptional_openings", "exceptional_closings"):
                self.initial[key] = hours.get(key) or None

    def _opening_times(self) -> dict | None:
        data = self.cleaned_data
        regular = []
        for n in range(1, 8):
            for part in filter(None, (p.strip() for p in (data.get(f"hours_{n}") or "").split(","))):
                match = _PERIOD.match(part)
                if not match:
                    self.add_error(f"hours_{n}", f"{part!r}: write periods like 08:00-20:00, 14:00-18:00.")
                    continue
                begin, end = (t.zfill(5) for t in match.groups())
                regular.append({"weekday": n, "period_begin": begin, "period_end": end})
        extra = {k: data[k] for k in ("exceptional_openings", "exceptional_closings") if data.get(k)}
        if not data.get("always_open") and not regular and not extra:
            return None  # unknown opening hours: OCPI leaves the field out
        return {"twentyfourseven": bool(data.get("always_open")), "regular_hours": regular, **extra}

    def clean(self):
        data = super().clean()
        self.location_data = {k: v for k, v in data.items() if k in services.LOCATION_FIELDS}
        hours = self._opening_times()
        # Fields the form already rejected are absent from cleaned_data, so every remaining
        # problem is reported once, all at the same time.
        if not any(f"hours_{n}" in self.errors for n in range(1, 8)):
            self.location_data["opening_times"] = hours
        try:
            services.location_validate(location=self.instance if self.instance.pk else None, **self.location_data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return data

    def _post_clean(self):
        # ModelForm would validate the model again here and repeat the service's
        # messages; the service already checked everything and does the saving.
        pass

    def groups(self):
        """Sections of the edit page, in order."""
        names = [
            ("Site", ("name", "address", "postal_code", "city", "state", "country", "latitude", "longitude")),
            ("Opening hours", ("time_zone", "always_open", *(f"hours_{n}" for n in range(1, 8)))),
            ("Parking and facilities", ("parking_type", "charging_when_closed", "facilities")),
            ("Publishing (OCPI)", ("publish", "publish_allowed_to")),
            (
                "Operator, sub-operator and owner",
                (
                    "operator_name",
                    "operator_website",
                    "suboperator_name",
                    "suboperator_website",
                    "owner_name",
                    "owner_website",
                ),
            ),
            (
                "Images, directions and energy (JSON)",
                ("images", "directions", "energy_mix", "exceptional_openings", "exceptional_closings"),
            ),
        ]
        return [(title, [self[name] for name in fields]) for title, fields in names]
