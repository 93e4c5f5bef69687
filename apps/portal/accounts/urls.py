"""Account pages, mounted in the portal namespace by apps/portal/urls.py."""

from django.urls import path

from apps.portal.accounts import views

urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/resend/", views.user_resend_invitation, name="user_resend"),
    path("account/tokens/", views.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("organization/", views.organization_settings, name="organization"),
    path("organizations/", views.child_list, name="child_list"),
]
