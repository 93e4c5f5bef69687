from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from apps.accounts.forms import DriverSignupForm, EmailAuthenticationForm
from apps.accounts.models import Role
from apps.accounts.services import user_create


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_set.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """An invitation is a password-reset token for a user without a password.
    Accepting it sets the password and signs the user in."""

    template_name = "accounts/invitation.html"
    success_url = reverse_lazy("portal:home")
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Welcome! Your password is set.")
        return response


def signup(request):
    """Drivers register themselves (e.g. from a connector's QR page); staff are invited."""
    from django.conf import settings
    from django.contrib.auth import login
    from django.core.exceptions import ValidationError
    from django.http import Http404
    from django.shortcuts import redirect, render
    from django.utils.http import url_has_allowed_host_and_scheme

    if getattr(request, "tenant", None) is None or request.tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        raise Http404  # the platform site has no drivers
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    form = DriverSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=Role.DRIVER,
                password=form.cleaned_data["password1"],
                invite=False,
            )
        except ValidationError as exc:
            form.add_error("email" if "email" in getattr(exc, "message_dict", {}) else None, exc.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url)
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})
