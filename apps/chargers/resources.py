"""Bulk import and export of locations and chargers (django-import-export), shared by
the portal's import pages and the operator's admin.

Rule: an import is all or nothing. Rows go through the services (the same rules and
messages as the API), and a validation error in any row rolls the whole file back.
"""

import json

from django.core.exceptions import ValidationError
from django.db import connection
from import_export import fields, resources, widgets

from apps.chargers import ocpi
from apps.chargers import services as charger_services
from apps.chargers.models import ChargePoint, Location
from apps.chargers.passwords import validate_charger_password
from apps.core.exports import SpreadsheetSafeExportMixin


class JSONCellWidget(widgets.Widget):
    """One JSON value per cell (lists and objects do not fit a spreadsheet otherwise).
    An empty cell is an empty value; the services check the shape."""

    def __init__(self, empty=list, **kwargs):
        self.empty = empty
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, list | dict):
            return value
        if value is None or not str(value).strip():
            return self.empty() if self.empty else None
        try:
            return json.loads(str(value))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos + 1}).") from exc

    def render(self, value, obj=None, **kwargs):
        if value in (None, [], {}):
            return ""
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class FacilitiesWidget(JSONCellWidget):
    """A JSON list, or simply CAFE, WIFI — what people type in a spreadsheet."""

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if text and not text.startswith("["):
            return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        return super().clean(value, row, **kwargs)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class AllOrNothingMixin:
    """Resources whose rows go through services. Whoever calls them (the portal, the
    admin's import pages), a validation error in any row rolls the whole file back,
    and a dry run always runs inside a transaction: the services really write."""

    def import_data(self, dataset, **kwargs):
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)


# Blank cells in these columns mean "keep the current value or the default", not "empty":
# an empty boolean or country is never what a spreadsheet author meant.
_KEEP_WHEN_BLANK_LOCATION = ("country", "time_zone", "publish", "charging_when_closed")


class LocationResource(SpreadsheetSafeExportMixin, AllOrNothingMixin, resources.ModelResource):
    """Locations with every OCPI field; JSON columns for the list-shaped ones.

    A row with an id updates that location; without one, a row updates the one
    location of that name (any letter case) or creates a new location.
    """

    facilities = fields.Field(attribute="facilities", column_name="facilities", widget=FacilitiesWidget())
    opening_times = fields.Field(
        attribute="opening_times", column_name="opening_times", widget=JSONCellWidget(empty=None)
    )
    images = fields.Field(attribute="images", column_name="images", widget=JSONCellWidget())
    directions = fields.Field(attribute="directions", column_name="directions", widget=JSONCellWidget())
    energy_mix = fields.Field(attribute="energy_mix", column_name="energy_mix", widget=JSONCellWidget(empty=None))
    publish_allowed_to = fields.Field(
        attribute="publish_allowed_to", column_name="publish_allowed_to", widget=JSONCellWidget()
    )
    required_columns = ("name",)

    class Meta:
        model = Location
        fields = ("id", *charger_services.LOCATION_FIELDS)
        export_order = fields
        import_id_fields = ["id"]  # a list: import-export then lets files without an id column through
        clean_model_instances = False  # the services validate
        skip_unchanged = False

    def get_instance(self, instance_loader, row):
        raw = row.get("id")
        if not _blank(raw):
            try:
                pk = int(float(str(raw).strip()))  # XLSX hands numbers over as floats
            except ValueError as exc:
                raise ValidationError({"id": f"{raw!r} is not a location id."}) from exc
            location = Location.objects.filter(pk=pk).first()
            if location is None:
                raise ValidationError({"id": f"No location with id {pk}; leave id empty to create one."})
            return location
        name = str(row.get("name") or "").strip()
        matches = list(Location.objects.filter(name__iexact=name)[:2]) if name else []
        if len(matches) > 1:
            raise ValidationError({"name": f"Several locations are called {name!r}; give the id column."})
        return matches[0] if matches else None

    def before_import_row(self, row, **kwargs):
        for key in _KEEP_WHEN_BLANK_LOCATION:
            if key in row and _blank(row[key]):
                del row[key]

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "id":
            return  # never assign primary keys from a file
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def save_instance(self, instance, is_create, row, **kwargs):
        data = {
            name: getattr(instance, name) for name in charger_services.LOCATION_FIELDS if name in row and name != "name"
        }
        if is_create:
            tenant = getattr(connection, "tenant", None)
            # New locations default to the organisation's country and time zone, like the portal form.
            if "country" not in data and getattr(tenant, "country", ""):
                data["country"] = tenant.country
            if "time_zone" not in data and getattr(tenant, "timezone", ""):
                data["time_zone"] = str(tenant.timezone)
            saved = charger_services.location_create(name=instance.name, **data)
        else:
            saved = charger_services.location_update(location=instance, name=instance.name, **data)
        instance.pk = saved.pk


class LocationWidget(widgets.Widget):
    """A location by id or by its (unique) name."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        text = str(value).strip()
        if text.replace(".0", "").isdigit():
            location = Location.objects.filter(pk=int(float(text))).first()
            if location:
                return location
        matches = list(Location.objects.filter(name__iexact=text)[:2])
        if len(matches) > 1:
            raise ValueError(f"several locations are called {text!r}; use the location id.")
        if not matches:
            raise ValueError(f"no location {text!r} (give an existing location's name or id).")
        return matches[0]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        # A name reads better, but only an unambiguous one imports back.
        return value.name if Location.objects.filter(name__iexact=value.name).count() == 1 else str(value.pk)


def connectors_parse(text: str) -> list[dict]:
    """ "1:IEC_62196_T2:AC_3_PHASE:22000;2:CHADEMO:DC:50000:CABLE:500:125".

    Per connector: number, standard, power type, max power (W), then optionally format,
    max voltage (V), max amperage (A). "N" is EVSE N connector N (OCPP 1.6 numbering);
    "E.C" is EVSE E connector C (OCPP 2.x).
    """
    result, seen = [], set()
    for n, item in enumerate([p.strip() for p in (text or "").split(";") if p.strip()], start=1):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) < 2 or len(parts) > 7:
            raise ValidationError({"connectors": f"item {n} {item!r}: expected number:standard:power_type:max_power."})
        number = parts[0]
        try:
            evse, _, conn = number.partition(".")
            evse_id, connector_id = int(evse), int(conn or evse)
        except ValueError as exc:
            raise ValidationError({"connectors": f"item {n} {item!r}: {number!r} is not N or E.C."}) from exc
        if (evse_id, connector_id) in seen:
            raise ValidationError({"connectors": f"connector {number} is listed twice."})
        seen.add((evse_id, connector_id))
        names = ("standard", "power_type", "max_electric_power", "format", "max_voltage", "max_amperage")
        attrs = {name: value for name, value in zip(names, parts[1:], strict=False) if value}
        result.append({"evse_id": evse_id, "connector_id": connector_id, **attrs})
    return result


def connectors_render(charge_point: ChargePoint) -> str:
    items = []
    for c in charge_point.connectors.all():
        if c.connector_id == 0 or c.evse_id == 0:
            continue
        number = str(c.connector_id) if c.evse_id == c.connector_id else f"{c.evse_id}.{c.connector_id}"
        parts = [number, c.standard, c.power_type, c.max_electric_power, c.format, c.max_voltage, c.max_amperage]
        parts = ["" if p is None else str(p) for p in parts]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        items.append(":".join(parts))
    return ";".join(items)


class ChargePointResource(SpreadsheetSafeExportMixin, AllOrNothingMixin, resources.ModelResource):
    """Chargers for bulk onboarding. The password column is import-only: it is hashed by
    the service and never exported (the hash stays in the database)."""

    location = fields.Field(attribute="location", column_name="location", widget=LocationWidget())
    password = fields.Field(column_name="password")
    connectors = fields.Field(column_name="connectors", dehydrate_method="dehydrate_connectors")
    required_columns = ("identity",)

    class Meta:
        model = ChargePoint
        fields = ("identity", "name", "location", "security_profile", "password", "vendor", "model", "connectors")
        import_order = fields
        export_order = fields
        import_id_fields = ("identity",)
        clean_model_instances = False  # the services validate
        skip_unchanged = False

    def get_export_order(self):
        # Also keeps it out of the admin's "fields to export" checkboxes.
        return tuple(name for name in super().get_export_order() if name != "password")

    def get_export_fields(self, selected_fields=None):
        return [f for f in super().get_export_fields(selected_fields) if f.column_name != "password"]

    def get_queryset(self):
        return ChargePoint.objects.select_related("location").prefetch_related("connectors")

    def get_instance(self, instance_loader, row):
        identity = str(row.get("identity") or "").strip()
        return ChargePoint.objects.filter(identity=identity).first() if identity else None

    def before_import_row(self, row, **kwargs):
        identity = row.get("identity")
        row["identity"] = "" if _blank(identity) else str(identity).strip()
        if not row["identity"]:
            raise ValidationError({"identity": "The charger identity is required."})
        if any(c in row["identity"] for c in "/ ?#") or not row["identity"].isprintable():
            raise ValidationError(
                {"identity": "An identity cannot contain spaces, '/', '?' or '#' (it is in the URL)."}
            )
        # vendor/model come from BootNotification once the charger connects: a blank cell keeps them.
        for key in ("security_profile", "vendor", "model"):
            if key in row and _blank(row[key]):
                del row[key]

    def import_instance(self, instance, row, **kwargs):
        # Report every problem of a row at once: a bad location cell would otherwise hide
        # a missing password or a bad connector until the next upload. The services still
        # decide on save; this only checks early what they will check.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        password = "" if _blank(row.get("password")) else str(row["password"]).strip()
        try:
            if password:
                validate_charger_password(password)
            elif instance.pk is None and instance.security_profile in (1, 2):
                raise ValidationError("Security profiles 1 and 2 need a password (16-40 characters).")
        except ValidationError as exc:
            errors.setdefault("password", []).extend(exc.messages)
        try:
            for spec in connectors_parse("" if _blank(row.get("connectors")) else str(row["connectors"])):
                attrs = {k: v for k, v in spec.items() if k not in ("evse_id", "connector_id")}
                try:
                    clean = charger_services.connector_attributes_clean(attrs)
                    ocpi.check_power_type(clean.get("standard", ""), clean.get("power_type", ""))
                except ValidationError as exc:
                    number = f"{spec['evse_id']}.{spec['connector_id']}"
                    problems = [f"{k}: {m}" for k, ms in exc.message_dict.items() for m in ms]
                    errors.setdefault("connectors", []).extend(f"connector {number}: {p}" for p in problems)
        except ValidationError as exc:
            errors.setdefault("connectors", []).extend(exc.messages)
        if errors:
            raise ValidationError(errors)

    def dehydrate_connectors(self, charge_point):
        return connectors_render(charge_point)

    def save_instance(self, instance, is_create, row, **kwargs):
        data = {name: getattr(instance, name) for name in ("name", "location", "security_profile", "vendor", "model")}
        data = {k: v for k, v in data.items() if k in row}
        password = "" if _blank(row.get("password")) else str(row["password"]).strip()
        if is_create:
            saved = charger_services.charge_point_create(identity=instance.identity, password=password or None, **data)
        else:
            saved = charger_services.charge_point_update(charge_point=instance, password=password or None, **data)
        instance.pk = saved.pk
        for spec in connectors_parse("" if _blank(row.get("connectors")) else str(row["connectors"])):
            try:
                charger_services.connector_declare(charge_point=saved, **spec)
            except ValidationError as exc:
                number = f"{spec['evse_id']}.{spec['connector_id']}"
                problems = [f"{k}: {m}" for k, ms in exc.message_dict.items() for m in ms]
                raise ValidationError({"connectors": [f"connector {number}: {p}" for p in problems]}) from exc
