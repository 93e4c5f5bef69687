from django.urls import path, re_path

from apps.qr import views

app_name = "qr"

urlpatterns = [
    path("c/<str:code>/", views.connector_page, name="connector"),
    path("c/<str:code>/start/", views.connector_start, name="start"),
    path("c/<str:code>/stop/", views.connector_stop, name="stop"),
    re_path(r"^c/(?P<code>[A-Za-z0-9]+)\.(?P<fmt>svg|png)$", views.qr_image, name="image"),
    path("chargers/<str:identity>/stickers.pdf", views.charger_stickers, name="charger_stickers"),
    path("locations/<int:pk>/stickers.pdf", views.location_stickers, name="location_stickers"),
    path("qr/analytics/", views.analytics, name="analytics"),
]
