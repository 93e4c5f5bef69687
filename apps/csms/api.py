"""The support engineer's raw OCPP console, the message log and the command history."""

from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chargers.models import ChargePoint
from apps.core.api import error_response
from apps.csms.catalogue import console_rule
from apps.csms.commands import MAX_TIMEOUT, InvalidCommand, command_send
from apps.csms.models import Command, CsmsSettings, MessageLog
from apps.csms.services import csms_settings_get, csms_settings_update


class OcppCommandView(APIView):
    """`POST /charge-points/{identity}/ocpp/{Action}` with the OCPP payload as the specification
    writes it (camelCase) for the charger's protocol version.

    200 `{"status": "ok", "response": {...}}` or `{"status": "error", "error": {...}}` (the
    charger's CALLERROR); 400 payload invalid against the schema; 409 charger not connected;
    504 no answer within `?timeout=` seconds (default 30)."""

    def policy_for(self, request) -> str:
        # Per OCPP action (and, for security settings, per payload): what the portal's page
        # for that action allows (apps.accounts.policy.COMMAND_RULES).
        data = request.data
        payload = data.dict() if isinstance(data, QueryDict) else data
        return console_rule(self.kwargs.get("action", ""), payload)

    @extend_schema(
        request=dict,
        responses=dict,
        parameters=[OpenApiParameter("timeout", float, description="Seconds to wait (1-120).")],
    )
    def post(self, request, identity: str, action: str):
        charge_point = get_object_or_404(ChargePoint, identity=identity)
        payload = request.data.dict() if isinstance(request.data, QueryDict) else request.data
        try:
            timeout = float(request.query_params.get("timeout", 30))
        except ValueError:
            return error_response(400, "timeout is a number of seconds.", "invalid")
        if not 1 <= timeout <= MAX_TIMEOUT:
            return error_response(400, f"timeout is between 1 and {MAX_TIMEOUT:.0f} seconds.", "invalid")
        try:
            result = command_send(
                charge_point=charge_point,
                action=action,
                payload=payload,
                user=request.user,
                timeout=timeout,
                source="api",
            )
        except InvalidCommand as exc:
            return error_response(400, str(exc), exc.code)
        extra = {"command_id": result.command.pk}
        if result.status == Command.Status.OFFLINE:
            return error_response(409, "The charger is not connected.", "offline", **extra)
        if result.status == Command.Status.TIMEOUT:
            return error_response(504, f"The charger did not answer within {timeout:g} s.", "timeout", **extra)
        body = {"status": result.status, **extra, "latency_ms": result.latency_ms}
        if result.status == Command.Status.OK:
            body["response"] = result.response
            if result.schema_error:
                body["schema_error"] = result.schema_error
        else:
            body["error"] = result.error
        return Response(body)


class MessageLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageLog
        fields = (
            "id",
            "timestamp",
            "direction",
            "message_type",
            "action",
            "unique_id",
            "payload",
            "raw",
            "error_code",
            "latency_ms",
        )


class MessageLogFilter(filters.FilterSet):
    since = filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = MessageLog
        fields = ("action", "direction", "message_type", "unique_id", "error_code")


class ChargerScopedList(generics.ListAPIView):
    policy = {"get": "chargers.operate"}
    search_fields: tuple = ()
    ordering_fields: tuple = ()

    def charge_point(self) -> ChargePoint:
        return get_object_or_404(ChargePoint, identity=self.kwargs["identity"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no identity
            return self.serializer_class.Meta.model.objects.none()
        return self.charger_queryset(self.charge_point())


class MessageLogList(ChargerScopedList):
    """Every OCPP frame to and from the charger, newest first (written within about a second)."""

    serializer_class = MessageLogSerializer
    filterset_class = MessageLogFilter
    policy = {"get": "chargers.messages"}

    def charger_queryset(self, charge_point):
        return MessageLog.objects.filter(charge_point_id=charge_point.pk).order_by("-timestamp", "-id")


class CommandSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()
    # Plain string in the schema: an enum here would collide with other "status" enums.
    status = serializers.CharField(read_only=True, help_text="pending, ok, error, timeout or offline")

    class Meta:
        model = Command
        fields = (
            "id",
            "created_at",
            "action",
            "payload",
            "user",
            "source",
            "status",
            "response",
            "error_code",
            "error_description",
            "latency_ms",
            "answered_at",
        )


class CommandList(ChargerScopedList):
    """Commands sent to the charger: who, when, what, and the answer."""

    serializer_class = CommandSerializer
    filterset_fields = ("action", "status")

    def charger_queryset(self, charge_point):
        return Command.objects.filter(charge_point=charge_point).select_related("user")


class CsmsSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CsmsSettings
        fields = (
            "unknown_identity_policy",
            "heartbeat_interval",
            "pending_retry_interval",
            "message_log_retention_days",
        )


class CsmsSettingsView(generics.RetrieveUpdateAPIView):
    """This organisation's OCPP settings: unknown chargers, heartbeat interval, log retention."""

    serializer_class = CsmsSettingsSerializer
    policy = {"get": "ocpp_settings.view", "put": "ocpp_settings.change", "patch": "ocpp_settings.change"}

    def get_object(self):
        return csms_settings_get()

    def perform_update(self, serializer):
        serializer.instance = csms_settings_update(**serializer.validated_data)
