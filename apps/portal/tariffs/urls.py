from django.urls import path

from apps.portal.tariffs import views

app_name = "tariffs"

urlpatterns = [
    path("", views.tariff_index, name="list"),
    path("import/", views.tariff_import, name="import"),
    path("<int:pk>/", views.tariff_detail, name="detail"),
    path("<int:pk>/assign/", views.tariff_assign, name="assign"),
]
