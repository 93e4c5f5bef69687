"""Mounted at wallets/ in config/urls_tenant.py: path("wallets/", include("apps.portal.wallets.urls"))."""

from django.urls import path

from apps.portal.wallets import views

app_name = "wallets"

urlpatterns = [
    path("", views.my_wallet, name="my_wallet"),
    path("export.csv", views.my_wallet_export, name="my_wallet_export"),
    path("topup/", views.topup, name="topup"),
    path("topup/<str:reference>/", views.topup_pay, name="topup_pay"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/export.csv", views.account_export, name="account_export"),
    path("accounts/<int:pk>/move/", views.account_move, name="account_move"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/statement.csv", views.group_statement_export, name="group_statement_export"),
    path("groups/<int:pk>/invite/", views.member_invite, name="member_invite"),
    path("groups/members/<int:pk>/", views.member_update, name="member_update"),
    path("groups/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("groups/accept/<str:secret>/", views.member_accept, name="member_accept"),
]
