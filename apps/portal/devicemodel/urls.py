"""Portal pages for Device model (OCPP 2.x), mounted in the portal namespace."""

from django.urls import path

from apps.portal.devicemodel import views

urlpatterns: list = [
    path("chargers/<str:identity>/device-model/", views.charger_device_model, name="devicemodel_charger"),
    path("chargers/<str:identity>/device-model/report/", views.charger_report, name="devicemodel_report"),
    path("chargers/<str:identity>/device-model/set/", views.charger_set_variables, name="devicemodel_set"),
    path("chargers/<str:identity>/device-model/get/", views.charger_get_variables, name="devicemodel_get"),
    path("chargers/<str:identity>/device-model/reset/", views.charger_reset, name="devicemodel_reset"),
    path(
        "chargers/<str:identity>/device-model/network-profile/",
        views.charger_network_profile,
        name="devicemodel_network_profile",
    ),
    path(
        "chargers/<str:identity>/device-model/template/",
        views.charger_template_apply,
        name="devicemodel_template_apply",
    ),
    path("chargers/<str:identity>/security/", views.charger_security, name="devicemodel_security"),
    path(
        "chargers/<str:identity>/security/password/",
        views.charger_password_rotate,
        name="devicemodel_password_rotate",
    ),
    path(
        "chargers/<str:identity>/security/upgrade/",
        views.charger_profile_upgrade,
        name="devicemodel_profile_upgrade",
    ),
    path(
        "chargers/<str:identity>/security/upgrade/<int:pk>/<str:decision>/",
        views.charger_profile_upgrade_decide,
        name="devicemodel_profile_upgrade_decide",
    ),
    path("device-model/templates/", views.template_list, name="devicemodel_template_list"),
    path("device-model/templates/new/", views.template_edit, name="devicemodel_template_create"),
    path("device-model/templates/<int:pk>/", views.template_edit, name="devicemodel_template_edit"),
    path("device-model/templates/<int:pk>/delete/", views.template_delete, name="devicemodel_template_delete"),
]
