"""Portal pages for Certificates, mounted in the portal namespace."""

from django.urls import path

from apps.portal.certificates import views

urlpatterns: list = [
    path("certificates/", views.certificate_authority, name="certificate_authority"),
    path("certificates/create/", views.certificate_authority_create, name="certificate_authority_create"),
    path("certificates/ca/<int:pk>.pem", views.certificate_authority_download, name="certificate_authority_download"),
    path("certificates/issued/<int:pk>.pem", views.issued_certificate_download, name="issued_certificate_download"),
    path("certificates/issued/<int:pk>/revoke/", views.issued_certificate_revoke, name="issued_certificate_revoke"),
    path("chargers/<str:identity>/certificates/", views.charger_certificates, name="charger_certificates"),
    path(
        "chargers/<str:identity>/certificates/install/",
        views.charger_certificate_install,
        name="charger_certificate_install",
    ),
    path(
        "chargers/<str:identity>/certificates/refresh/",
        views.charger_certificate_refresh,
        name="charger_certificate_refresh",
    ),
    path(
        "chargers/<str:identity>/certificates/<int:pk>/delete/",
        views.charger_certificate_delete,
        name="charger_certificate_delete",
    ),
    path(
        "chargers/<str:identity>/certificates/renew/", views.charger_certificate_renew, name="charger_certificate_renew"
    ),
]
