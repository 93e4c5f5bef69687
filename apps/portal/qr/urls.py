from django.urls import path, re_path

from apps.portal.qr import views

app_name = "qr"

urlpatterns = [
    path("c/guest/<str:token>/", views.guest_page, name="guest"),
    path("c/guest/<str:token>/status/", views.guest_status, name="guest_status"),
    path("c/guest/<str:token>/stop/", views.guest_stop, name="guest_stop"),
    path("c/<str:code>/guest/", views.guest_create, name="guest_create"),
    path("c/<str:code>/", views.connector_page, name="connector"),
    path("c/<str:code>/start/", views.connector_start, name="start"),
    path("c/<str:code>/stop/", views.connector_stop, name="stop"),
    re_path(r"^c/(?P<code>[A-Za-z0-9]+)\.(?P<fmt>svg|png)$", views.qr_image, name="image"),
    path("chargers/<str:identity>/stickers.pdf", views.charger_stickers, name="charger_stickers"),
    path("locations/<int:pk>/stickers.pdf", views.location_stickers, name="location_stickers"),
    path("qr/analytics/", views.analytics, name="analytics"),
]
