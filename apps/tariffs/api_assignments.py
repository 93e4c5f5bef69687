"""/api/v1/customer-groups/, /api/v1/tariff-assignments/ and /api/v1/tariff-assignments/effective/.

Assignments are created and deleted, not edited: a changed assignment is a new row, so the
history of which tariff applied where stays readable."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.accounts.policy import crud
from apps.tariffs import selectors, services
from apps.tariffs.api import TariffSerializer
from apps.tariffs.models import CustomerGroup, TariffAssignment


class _StaffReadAdminWrite:
    policy = crud("tariffs.view", "tariffs.change", effective="tariffs.view")


class CustomerGroupSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=get_user_model().objects.filter(is_active=True),
        help_text="Users (drivers) who get this group's prices.",
    )

    class Meta:
        model = CustomerGroup
        fields = ("id", "name", "kind", "members")


class CustomerGroupViewSet(
    _StaffReadAdminWrite,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Customer groups (public, member, fleet, roaming partner) that tariffs can be assigned to."""

    queryset = CustomerGroup.objects.all()
    serializer_class = CustomerGroupSerializer
    filterset_fields = ("kind",)
    search_fields = ("name",)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        members = data.pop("members", None)
        group = services.customer_group_create(**data)
        if members is not None:
            services.customer_group_set_members(group=group, users=members)
        serializer.instance = group

    def perform_update(self, serializer):
        members = serializer.validated_data.get("members")
        if members is not None:
            services.customer_group_set_members(group=serializer.instance, users=members)

    def perform_destroy(self, instance):
        services.customer_group_delete(group=instance)


class TariffAssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffAssignment
        fields = (
            "id", "tariff", "scope", "scope_ref", "customer_group", "priority", "valid_from", "valid_until",
            "created_at",
        )  # fmt: skip
        read_only_fields = ("id", "created_at")
        validators: list = []  # the service validates the whole row (model constraints)


class TariffAssignmentViewSet(
    _StaffReadAdminWrite,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where and to whom a tariff applies. Precedence: see `effective`."""

    queryset = TariffAssignment.objects.select_related("tariff", "customer_group")
    serializer_class = TariffAssignmentSerializer
    filterset_fields = ("tariff", "scope", "scope_ref", "customer_group")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.tariff_assign(**serializer.validated_data)
        return Response(self.get_serializer(assignment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.tariff_assignment_delete(assignment=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("at", str, description="ISO 8601; default now"),
            OpenApiParameter("location", str),
            OpenApiParameter("evse", str),
            OpenApiParameter("charger_group", str, many=True),
            OpenApiParameter("customer_group", int, many=True),
        ],
        responses={200: TariffSerializer},
    )
    @action(detail=False, methods=["get"])
    def effective(self, request):
        """The tariff a session starting `at` would get. Precedence, first difference decides:
        the driver's customer group over everybody; EVSE > charger group > location >
        organisation; higher priority; later valid_from; lower id."""
        params = request.query_params
        at = serializers.DateTimeField().run_validation(params["at"]) if params.get("at") else timezone.now()
        try:
            groups = [int(g) for g in params.getlist("customer_group")]
        except ValueError as exc:
            raise serializers.ValidationError({"customer_group": ["Customer group ids are integers."]}) from exc
        tariff = selectors.tariff_effective(
            at=at,
            location_ref=params.get("location", ""),
            evse_ref=params.get("evse", ""),
            charger_group_refs=params.getlist("charger_group"),
            customer_group_ids=groups,
        )
        if tariff is None:
            raise NotFound("No tariff is assigned here.")
        return Response(TariffSerializer(tariff).data)
