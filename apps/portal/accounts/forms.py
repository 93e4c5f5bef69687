"""Account page forms: invite and edit users, API tokens, organisation settings, a
reseller's new organisation."""

from django import forms

from apps.accounts.models import TENANT_ROLES, Role, User
from apps.core.validators import DateTimeField
from apps.tenants.models import Organization


class InviteUserForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in TENANT_ROLES])

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Reseller admins exist only in resellers; operators have operator admins.
        if organization is not None and organization.kind == Organization.Kind.OPERATOR:
            self.fields["role"].choices = [c for c in self.fields["role"].choices if c[0] != Role.RESELLER_ADMIN]
        elif organization is not None and organization.kind == Organization.Kind.RESELLER:
            self.fields["role"].choices = [c for c in self.fields["role"].choices if c[0] != Role.OPERATOR_ADMIN]


class EditUserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("full_name", "phone", "role", "is_active")

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = InviteUserForm(organization=organization).fields["role"].choices


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, initial="API token")
    expires_at = DateTimeField(
        required=False,
        help_text="Optional, e.g. 2027-01-31 00:00",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class BrandingForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = (
            "name",
            "legal_name",
            "registration_number",
            "vat_number",
            "address",
            "postal_code",
            "city",
            "country",
            "currency",
            "timezone",
            "support_email",
            "logo",
            "primary_colour",
        )
        widgets = {"primary_colour": forms.TextInput(attrs={"type": "color"})}


class ChildOrganizationForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=41, help_text="Becomes <slug>.<platform domain>.")
    admin_email = forms.EmailField()
    admin_name = forms.CharField(max_length=150, required=False)
    country = forms.CharField(max_length=2, initial="DE")
    currency = forms.CharField(max_length=3, initial="EUR")
    timezone = forms.CharField(max_length=64, initial="Europe/Berlin")
