from django.urls import path

from apps.portal.dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
]
