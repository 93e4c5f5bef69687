"""The /api/v1/ router. Each app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts import api as accounts_api

router = DefaultRouter()
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("api-tokens", accounts_api.ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", accounts_api.me, name="me"),
    *router.urls,
]
