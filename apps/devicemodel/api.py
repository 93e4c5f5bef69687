"""`GET /api/v1/charge-points/{identity}/device-model/?component=&q=`: a 2.x charger's
stored device model (components → variables → attributes and characteristics)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chargers.models import ChargePoint
from apps.devicemodel import selectors


class DeviceModelView(APIView):
    policy = {"get": "devicemodel.view"}

    @extend_schema(
        responses=dict,
        parameters=[
            OpenApiParameter("component", str, description="Component name (case-insensitive, exact)."),
            OpenApiParameter("q", str, description="Part of a component or variable name."),
        ],
    )
    def get(self, request, identity: str):
        cp = get_object_or_404(ChargePoint, identity=identity)
        summary = selectors.device_model_summary(charge_point=cp)
        last = summary["last_report"]
        return Response(
            {
                "identity": cp.identity,
                "protocol_version": cp.protocol_version,
                "last_report": (
                    {"request_id": last.request_id, "report_base": last.report_base, "completed_at": last.completed_at}
                    if last
                    else None
                ),
                "components": selectors.device_model_as_dict(
                    charge_point=cp,
                    component=request.query_params.get("component", "").strip(),
                    q=request.query_params.get("q", "").strip(),
                ),
            }
        )
