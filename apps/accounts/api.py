from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.models import TENANT_ROLES, ApiToken, User
from apps.accounts.policy import crud


class UserSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=[(r.value, r.label) for r in TENANT_ROLES])
    invitation_pending = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "full_name",
            "phone",
            "role",
            "is_active",
            "date_joined",
            "last_login",
            "invitation_pending",
        )
        read_only_fields = ("id", "date_joined", "last_login")


class UserUpdateSerializer(UserSerializer):
    class Meta(UserSerializer.Meta):
        read_only_fields = ("id", "email", "date_joined", "last_login")


class UserFilter(filters.FilterSet):
    class Meta:
        model = User
        fields = {"role": ["exact"], "is_active": ["exact"], "date_joined": ["gte", "lte"]}


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Users of this organisation. Creating one sends an invitation e-mail.
    Deactivate with `PATCH {"is_active": false}` (records keep their owner)."""

    queryset = User.objects.all().order_by("email")
    policy = crud("users.manage", "users.manage")
    filterset_class = UserFilter
    search_fields = ("email", "full_name")
    ordering_fields = ("email", "date_joined", "last_login")

    def get_serializer_class(self):
        return UserUpdateSerializer if self.action in ("update", "partial_update") else UserSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.user_create(
            email=data["email"],
            role=data["role"],
            full_name=data.get("full_name", ""),
            base_url=f"{self.request.scheme}://{self.request.get_host()}",
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        if serializer.instance == self.request.user and (
            data.get("role", self.request.user.role) != self.request.user.role or data.get("is_active") is False
        ):
            raise serializers.ValidationError({"role": "You cannot change your own role or deactivate yourself."})
        serializer.instance = services.user_update(user=serializer.instance, **data)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "is_active")
        read_only_fields = ("id", "prefix", "created_at", "last_used_at", "revoked_at", "is_active")


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API tokens. `DELETE` revokes a token (it stays listed, revoked)."""

    serializer_class = ApiTokenSerializer
    policy = crud("account.self", "account.self")
    filterset_fields = ("revoked_at",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.api_token_create(
            user=request.user,
            name=serializer.validated_data["name"],
            expires_at=serializer.validated_data.get("expires_at"),
        )
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.api_token_revoke(token=instance)


class MeSerializer(UserSerializer):
    organization = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = (*UserSerializer.Meta.fields, "organization")

    def get_organization(self, obj) -> dict:
        org = self.context["request"].tenant
        return {
            "name": org.name,
            "slug": org.slug,
            "kind": org.kind,
            "currency": org.currency,
            "timezone": org.timezone,
            "country": org.country,
        }


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The authenticated user and their organisation."""
    return Response(MeSerializer(request.user, context={"request": request}).data)


me.cls.policy = {"get": "account.self"}
