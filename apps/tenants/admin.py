from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.tenants import services
from apps.tenants.models import Domain, Organization


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class OrganizationCreationForm(forms.ModelForm):
    admin_email = forms.EmailField(help_text="The first admin; they receive an invitation e-mail.")
    admin_name = forms.CharField(required=False)

    class Meta:
        model = Organization
        fields = ("name", "slug", "kind", "parent", "legal_name", "country", "currency", "timezone", "primary_colour")

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind == Organization.Kind.PLATFORM:
            raise forms.ValidationError("Choose operator or reseller.")
        return kind


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "parent", "status", "country", "currency", "created_at")
    list_filter = ("kind", "status", "country")
    search_fields = ("name", "slug", "legal_name", "domains__domain")
    readonly_fields = ("schema_name", "created_at")
    inlines = [DomainInline]
    actions = ["suspend", "reactivate"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = OrganizationCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "slug", "kind") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("admin_email", "admin_name")}
        try:
            created = services.organization_create(
                admin_email=form.cleaned_data["admin_email"],
                admin_name=form.cleaned_data.get("admin_name", ""),
                **data,
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return
        obj.pk = created.pk
        obj.schema_name = created.schema_name

    def has_delete_permission(self, request, obj=None):
        # Deleting drops a schema full of money records: suspend instead.
        return False

    @admin.action(description="Suspend selected organisations")
    def suspend(self, request, queryset):
        for org in queryset.exclude(schema_name="public"):
            services.organization_set_status(organization=org, status=Organization.Status.SUSPENDED)

    @admin.action(description="Reactivate selected organisations")
    def reactivate(self, request, queryset):
        for org in queryset:
            services.organization_set_status(organization=org, status=Organization.Status.ACTIVE)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain", "tenant__name")
