"""Account pages: the organisation's users, everyone's own API tokens, the organisation's
settings and a reseller's organisations."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts import services as account_services
from apps.accounts.models import ApiToken, Role, User
from apps.accounts.permissions import (
    role_required,
)
from apps.portal import ui
from apps.portal.accounts import forms
from apps.tenants import services as tenant_services
from apps.tenants.models import Organization
from apps.tenants.selectors import organization_children


@role_required("users.manage")
def user_list(request):
    users = User.objects.all()
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if q:
        users = users.filter(email__icontains=q) | users.filter(full_name__icontains=q)
    if role:
        users = users.filter(role=role)
    return render(
        request,
        "portal/users/list.html",
        {
            "users": users.order_by("email"),
            "q": q,
            "role": role,
            "roles": [r for r in Role if r != Role.PLATFORM_STAFF],
        },
    )


@role_required("users.manage")
def user_invite(request):
    form = forms.InviteUserForm(request.POST or None, organization=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.user_create(**form.cleaned_data, base_url=_base_url(request))
        except ValidationError as exc:
            ui.form_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {user.email}.")
            return redirect("portal:user_list")
    return render(request, "portal/users/invite.html", {"form": form})


@role_required("users.manage")
def user_edit(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = forms.EditUserForm(request.POST or None, instance=user, organization=request.tenant)
    if request.method == "POST" and form.is_valid():
        if user == request.user and (form.cleaned_data["role"] != user.role or not form.cleaned_data["is_active"]):
            form.add_error(None, "You cannot change your own role or deactivate yourself.")
        else:
            account_services.user_update(
                user=user, **{k: form.cleaned_data[k] for k in ("role", "full_name", "is_active", "phone")}
            )
            messages.success(request, f"Saved {user.email}.")
            return redirect("portal:user_list")
    return render(request, "portal/users/edit.html", {"form": form, "subject": user})


@role_required("users.manage")
@require_POST
def user_resend_invitation(request, pk):
    user = get_object_or_404(User, pk=pk)
    if user.invitation_pending:
        account_services.user_send_invitation(user=user, base_url=_base_url(request))
        messages.success(request, f"Invitation sent again to {user.email}.")
    return redirect("portal:user_list")


def _base_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


@login_required
def token_list(request):
    form = forms.ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _, new_key = account_services.api_token_create(
            user=request.user, name=form.cleaned_data["name"], expires_at=form.cleaned_data["expires_at"]
        )
        form = forms.ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "portal/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    account_services.api_token_revoke(token=token)
    messages.success(request, f"Revoked “{token.name}”.")
    return redirect("portal:token_list")


@role_required("organization.manage")
def organization_settings(request):
    org = request.tenant
    form = forms.BrandingForm(request.POST or None, request.FILES or None, instance=org)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Organisation settings saved.")
        return redirect("portal:organization")
    return render(request, "portal/organization.html", {"form": form, "domains": org.domains.all()})


@role_required("resellers.manage")
def child_list(request):
    if request.tenant.kind != Organization.Kind.RESELLER:
        raise PermissionDenied
    form = forms.ChildOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child = tenant_services.organization_create(parent=request.tenant, **form.cleaned_data)
        except ValidationError as exc:
            ui.form_errors(form, exc)
        else:
            messages.success(request, f"Created {child.name}; {form.cleaned_data['admin_email']} is invited.")
            return redirect("portal:child_list")
    return render(
        request, "portal/children.html", {"children": organization_children(reseller=request.tenant), "form": form}
    )
