"""Reads for the device model pages and API."""

from __future__ import annotations

from django.db.models import Prefetch, Q

from apps.chargers.models import ChargePoint, ChargerEvent
from apps.devicemodel.models import (
    Component,
    DeviceReport,
    PasswordRotation,
    SecurityProfileUpgrade,
    TemplateApplication,
    Variable,
    VariableAttribute,
)


def device_model_components(*, charge_point: ChargePoint, component: str = "", q: str = "") -> list[Component]:
    """Components with their variables and attributes; `component` filters on the component
    name, `q` on component or variable name (both case-insensitive, substring)."""
    variables = Variable.objects.prefetch_related(
        Prefetch("attributes", queryset=VariableAttribute.objects.order_by("type"))
    )
    components = Component.objects.filter(charge_point=charge_point)
    if component:
        components = components.filter(name__iexact=component)
    if q:
        matching = Q(name__icontains=q) | Q(component__name__icontains=q)
        variables = variables.filter(matching)
        components = components.filter(Q(name__icontains=q) | Q(variables__name__icontains=q)).distinct()
    components = components.prefetch_related(Prefetch("variables", queryset=variables.order_by("name", "instance")))
    return list(components.order_by("name", "instance", "evse_id", "connector_id"))


def device_model_component_names(*, charge_point: ChargePoint) -> list[str]:
    return list(
        Component.objects.filter(charge_point=charge_point).order_by("name").values_list("name", flat=True).distinct()
    )


def device_model_summary(*, charge_point: ChargePoint) -> dict:
    last_complete = (
        DeviceReport.objects.filter(charge_point=charge_point, status=DeviceReport.Status.COMPLETE)
        .order_by("-completed_at")
        .first()
    )
    return {
        "components": Component.objects.filter(charge_point=charge_point).count(),
        "variables": Variable.objects.filter(component__charge_point=charge_point).count(),
        "last_report": last_complete,
        "reports": list(DeviceReport.objects.filter(charge_point=charge_point).order_by("-requested_at")[:10]),
    }


def template_runs(*, charge_point: ChargePoint, limit: int = 10) -> list[TemplateApplication]:
    return list(TemplateApplication.objects.filter(charge_point=charge_point).order_by("-created_at")[:limit])


def security_overview(*, charge_point: ChargePoint) -> dict:
    return {
        "rotations": list(PasswordRotation.objects.filter(charge_point=charge_point)[:10]),
        "upgrades": list(SecurityProfileUpgrade.objects.filter(charge_point=charge_point)[:10]),
        "events": list(
            ChargerEvent.objects.filter(charge_point=charge_point, kind="SecurityEventNotification").order_by(
                "-timestamp"
            )[:100]
        ),
    }


def device_model_as_dict(*, charge_point: ChargePoint, component: str = "", q: str = "") -> list[dict]:
    """The API's shape: components → variables → attributes and characteristics."""
    out = []
    for c in device_model_components(charge_point=charge_point, component=component, q=q):
        out.append(
            {
                "component": c.wire(),
                "variables": [
                    {
                        "variable": v.wire(),
                        "characteristics": {
                            "unit": v.unit,
                            "dataType": v.data_type,
                            "minLimit": v.min_limit,
                            "maxLimit": v.max_limit,
                            "maxElements": v.max_elements,
                            "valuesList": v.values_list,
                            "supportsMonitoring": v.supports_monitoring,
                        },
                        "attributes": [
                            {
                                "type": a.type,
                                "value": a.value,
                                "mutability": a.mutability or None,
                                "persistent": a.persistent,
                                "constant": a.constant,
                                "lastSet": (
                                    {"status": a.last_set_status, "at": a.last_set_at} if a.last_set_status else None
                                ),
                                "updatedAt": a.updated_at,
                            }
                            for a in v.attributes.all()
                        ],
                    }
                    for v in c.variables.all()
                ],
            }
        )
    return out
