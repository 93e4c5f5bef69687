"""API for local authorisation lists: `/local-lists/` CRUD and
`POST /charge-points/{identity}/local-list/push/`."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.policy import crud
from apps.chargers.models import ChargePoint, Location
from apps.charging import locallists
from apps.charging.models import IdToken, LocalAuthList
from apps.core.api import error_response


class LocalAuthListSerializer(serializers.ModelSerializer):
    group_ids = serializers.ListField(child=serializers.CharField(max_length=255), required=False)
    tokens = serializers.PrimaryKeyRelatedField(queryset=IdToken.objects.all(), many=True, required=False)
    charge_points = serializers.SlugRelatedField(
        slug_field="identity", queryset=ChargePoint.objects.all(), many=True, required=False
    )
    locations = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), many=True, required=False)

    class Meta:
        model = LocalAuthList
        fields = (
            "id",
            "name",
            "mode",
            "group_ids",
            "include_refused",
            "tokens",
            "charge_points",
            "locations",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")


class LocalAuthListViewSet(viewsets.ModelViewSet):
    """Local authorisation lists; saving one marks the chargers whose content changed and
    pushes differentials to the online ones."""

    queryset = LocalAuthList.objects.prefetch_related("tokens", "charge_points", "locations").order_by("name")
    serializer_class = LocalAuthListSerializer
    search_fields = ("name",)

    policy = crud("locallists.view", "locallists.change")

    def perform_create(self, serializer):
        serializer.instance = locallists.local_auth_list_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = locallists.local_auth_list_update(
            local_list=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        locallists.local_auth_list_delete(local_list=instance)


class LocalListPushView(APIView):
    """Push the charger's local list and return its answer.

    Body: `{"update_type": "full" | "differential" | "auto"}` (default auto: differential
    unless the charger's copy is unknown). 200 with the outcome when the charger answered
    (`status`: accepted, unchanged, failed); 409 offline or a push already running;
    422 refused by EVzone (list longer than the charger's limits, not OCPP 1.6);
    504 no answer; 502 CALLERROR."""

    policy = {"post": "locallists.push"}
    STATUS_CODES = {"offline": 409, "busy": 409, "refused": 422, "timeout": 504, "error": 502}

    @extend_schema(
        request=dict,
        responses=dict,
        parameters=[OpenApiParameter("timeout", float, description="Seconds to wait (1-120).")],
    )
    def post(self, request, identity: str):
        charge_point = get_object_or_404(ChargePoint, identity=identity)
        kind = str(request.data.get("update_type", "auto") or "auto").lower()
        if kind not in ("full", "differential", "auto"):
            return error_response(400, "update_type is full, differential or auto.", "invalid")
        try:
            timeout = float(request.query_params.get("timeout", 30))
        except ValueError:
            return error_response(400, "timeout is a number of seconds.", "invalid")
        timeout = max(1.0, min(timeout, 120.0))
        try:
            result = locallists.local_list_push(
                charge_point=charge_point,
                full={"full": True, "differential": False}.get(kind),
                user=request.user,
                source="api",
                timeout=timeout,
            )
        except locallists.LocalListError as exc:
            return error_response(422, str(exc), "refused")
        state = locallists.local_list_state_get(charge_point=charge_point)
        body = {
            "status": result.status,
            "update_type": result.update_type,
            "list_version": result.version,
            "answer": result.answer,
            "detail": result.message,
            "command_ids": [c.pk for c in result.commands],
            "sync_status": state.status if state else None,
        }
        return Response(body, status=self.STATUS_CODES.get(result.status, 200))
