from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from import_export.admin import ImportExportModelAdmin

from apps.chargers import services
from apps.chargers.models import ChargePoint, ChargerEvent, ChargerGroup, ConfigurationKey, Connector, Location
from apps.chargers.passwords import MAX_LENGTH, MIN_LENGTH
from apps.chargers.resources import ChargePointResource, LocationResource
from apps.core.admin_sites import operator_admin_site
from apps.csms.commands import command_send


class ChargePointForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        widget=forms.PasswordInput(render_value=False),
        help_text="Basic auth password. Leave empty to keep the current one.",
    )

    class Meta:
        model = ChargePoint
        fields = ("identity", "name", "location", "security_profile", "registration_status", "heartbeat_interval")


class ConnectorInline(admin.TabularInline):
    model = Connector
    extra = 0
    can_delete = False
    # Physical attributes are declared on the portal's connectors page (validated by the services).
    readonly_fields = (
        "evse_id",
        "connector_id",
        "status",
        "error_code",
        "vendor_error_code",
        "info",
        "status_at",
        "standard",
        "power_type",
        "max_electric_power",
        "ocpi_evse_id",
    )
    fields = readonly_fields


@admin.register(ChargePoint, site=operator_admin_site)
class ChargePointAdmin(ImportExportModelAdmin):
    # The portal's resource (apps/chargers/resources.py): admin imports go through the same
    # services (hashed passwords, connector validation) and exports never contain passwords.
    resource_classes = [ChargePointResource]
    form = ChargePointForm
    list_display = (
        "identity",
        "name",
        "registration_status",
        "online",
        "last_seen",
        "vendor",
        "model",
        "firmware_version",
        "protocol_version",
    )
    list_filter = ("online", "registration_status", "protocol_version", "security_profile")
    search_fields = ("identity", "name", "serial_number")
    readonly_fields = (
        "protocol_version",
        "vendor",
        "model",
        "serial_number",
        "firmware_version",
        "iccid",
        "imsi",
        "meter_type",
        "meter_serial_number",
        "online",
        "last_seen",
        "connected_at",
        "last_boot_at",
        "firmware_status",
        "diagnostics_status",
    )
    inlines = [ConnectorInline]
    actions = ["accept", "reject", "soft_reset", "read_configuration"]
    # Commands from the admin wait for each charger in turn; keep the batch small.
    COMMAND_BATCH = 20

    def get_readonly_fields(self, request, obj=None):
        # The identity is the charger's login: renaming it would lock the charger out.
        return (("identity",) if obj else ()) + tuple(self.readonly_fields)

    def save_model(self, request, obj, form, change):
        data = {
            k: form.cleaned_data.get(k)
            for k in ("name", "location", "security_profile", "registration_status", "heartbeat_interval")
        }
        password = form.cleaned_data.get("password") or None
        if change:
            services.charge_point_update(charge_point=obj, password=password, **data)
        else:
            created = services.charge_point_create(identity=form.cleaned_data["identity"], password=password, **data)
            obj.pk = created.pk

    @admin.action(description="Accept selected chargers (next BootNotification)")
    def accept(self, request, queryset):
        count = queryset.update(registration_status="Accepted")
        self.message_user(request, f"{count} charger(s) accepted.", messages.SUCCESS)

    @admin.action(description="Reject selected chargers")
    def reject(self, request, queryset):
        count = queryset.update(registration_status="Rejected")
        self.message_user(request, f"{count} charger(s) rejected.", messages.WARNING)

    def _command(self, request, queryset, action: str, payload: dict) -> None:
        if queryset.count() > self.COMMAND_BATCH:
            self.message_user(request, f"Select at most {self.COMMAND_BATCH} chargers.", messages.ERROR)
            return
        outcome = Counter()
        for cp in queryset:
            result = command_send(
                charge_point=cp, action=action, payload=payload, user=request.user, timeout=10, source="admin"
            )
            answer = (result.response or {}).get("status") if result.status == "ok" else None
            outcome[answer or result.status] += 1
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcome.items()))
        self.message_user(request, f"{action}: {summary}. Details in Commands.", messages.INFO)

    @admin.action(description="Soft reset (Reset Soft)")
    def soft_reset(self, request, queryset):
        self._command(request, queryset, "Reset", {"type": "Soft"})

    @admin.action(description="Read configuration (GetConfiguration)")
    def read_configuration(self, request, queryset):
        self._command(request, queryset, "GetConfiguration", {})


class LocationAdminForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = services.LOCATION_FIELDS

    def clean(self):
        data = super().clean()
        fields = {k: v for k, v in data.items() if k in services.LOCATION_FIELDS}
        try:
            services.location_validate(location=self.instance if self.instance.pk else None, **fields)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return data


@admin.register(Location, site=operator_admin_site)
class LocationAdmin(ImportExportModelAdmin):
    resource_classes = [LocationResource]
    form = LocationAdminForm
    list_display = ("name", "city", "country", "time_zone", "publish", "last_updated")
    list_filter = ("publish", "country", "parking_type")
    search_fields = ("name", "address", "city")

    def save_model(self, request, obj, form, change):
        # Through the service, so the OCPI JSON fields are validated here too.
        data = {k: form.cleaned_data[k] for k in services.LOCATION_FIELDS if k in form.cleaned_data}
        if change:
            services.location_update(location=Location.objects.get(pk=obj.pk), **data)
        else:
            obj.pk = services.location_create(**data).pk


@admin.register(ConfigurationKey, site=operator_admin_site)
class ConfigurationKeyAdmin(admin.ModelAdmin):
    list_display = ("charge_point", "key", "value", "readonly", "updated_at")
    list_filter = ("readonly",)
    search_fields = ("charge_point__identity", "key")


@admin.register(ChargerEvent, site=operator_admin_site)
class ChargerEventAdmin(admin.ModelAdmin):
    list_display = ("timestamp", "charge_point", "kind", "status", "request_id")
    list_filter = ("kind",)
    search_fields = ("charge_point__identity", "status")
    readonly_fields = ("charge_point", "kind", "status", "request_id", "info", "payload", "timestamp")


@admin.register(ChargerGroup, site=operator_admin_site)
class ChargerGroupAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name", "charge_points__identity")
    filter_horizontal = ("charge_points",)
