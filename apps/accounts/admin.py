from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import connection

from apps.accounts import services
from apps.accounts.models import ApiToken, Role, User
from apps.core.admin_sites import operator_admin_site


class UserAddForm(forms.ModelForm):
    """Adding a user sends an invitation; nobody types another person's password."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        public = connection.schema_name == "public"
        self.fields["role"].choices = [(r.value, r.label) for r in Role if (r == Role.PLATFORM_STAFF) == public]


class UserAdmin(DjangoUserAdmin):
    add_form = UserAddForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "is_active", "last_login", "invitation_pending")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined", "invited_at")
    fieldsets = (
        (None, {"fields": ("email", "full_name", "phone", "role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined", "invited_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "role")}),)
    actions = ["resend_invitation"]

    @admin.display(boolean=True, description="Invitation pending")
    def invitation_pending(self, obj):
        return obj.invitation_pending

    def save_model(self, request, obj, form, change):
        try:
            if change:
                services.user_update(user=obj, role=obj.role, full_name=obj.full_name, is_active=obj.is_active)
            else:
                created = services.user_create(email=obj.email, full_name=obj.full_name, role=obj.role)
                obj.pk = created.pk
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))

    @admin.action(description="Send the invitation e-mail again")
    def resend_invitation(self, request, queryset):
        sent = 0
        for user in queryset:
            if user.invitation_pending:
                services.user_send_invitation(user=user)
                sent += 1
        messages.info(request, f"Sent {sent} invitation(s).")


class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "prefix")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    exclude = ("digest",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are created by their owner in the portal, where they are shown once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token)


admin.site.register(User, UserAdmin)
operator_admin_site.register(User, UserAdmin)
operator_admin_site.register(ApiToken, ApiTokenAdmin)
