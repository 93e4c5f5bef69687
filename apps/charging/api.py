from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from apps.accounts.models import User
from apps.accounts.policy import crud
from apps.charging import services
from apps.charging.locallists import local_lists_token_changed
from apps.charging.models import IdToken


class IdTokenSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)

    class Meta:
        model = IdToken
        fields = ("id", "id_token", "type", "status", "expires_at", "group_id", "owner", "label", "created_at")
        read_only_fields = ("id", "created_at")


class IdTokenUpdateSerializer(IdTokenSerializer):
    class Meta(IdTokenSerializer.Meta):
        read_only_fields = ("id", "id_token", "created_at")


class IdTokenFilter(filters.FilterSet):
    class Meta:
        model = IdToken
        fields = {
            "status": ["exact"],
            "type": ["exact"],
            "group_id": ["exact"],
            "owner": ["exact"],
            "expires_at": ["gte", "lte", "isnull"],
        }


class IdTokenViewSet(viewsets.ModelViewSet):
    """RFID cards, app tokens and other identifiers the chargers authorise."""

    queryset = IdToken.objects.select_related("owner").order_by("id_token")
    filterset_class = IdTokenFilter
    search_fields = ("id_token", "label", "group_id")
    ordering_fields = ("id_token", "created_at", "expires_at")

    policy = crud("idtokens.view", "idtokens.change")

    def get_serializer_class(self):
        return IdTokenUpdateSerializer if self.action in ("update", "partial_update") else IdTokenSerializer

    def perform_create(self, serializer):
        serializer.instance = services.id_token_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.id_token_update(token=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        instance.delete()
        local_lists_token_changed(token=None)
