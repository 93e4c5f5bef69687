"""Reads for tariffs: lists, the effective tariff for a session, and price estimates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from apps.tariffs import engine
from apps.tariffs.models import CustomerGroup, PriceComponent, Tariff, TariffAssignment, TariffElement
from apps.tariffs.ocpi import tariff_to_domain


def tariff_list() -> QuerySet[Tariff]:
    elements = TariffElement.objects.select_related("restrictions").prefetch_related(
        Prefetch("price_components", queryset=PriceComponent.objects.order_by("position"))
    )
    return Tariff.objects.prefetch_related("alt_texts", Prefetch("elements", queryset=elements)).order_by("name", "id")


def assignment_rank(assignment: TariffAssignment, customer_group_ids: Iterable[int]) -> tuple:
    """Sort key implementing the precedence documented on TariffAssignment (larger wins)."""
    return (
        assignment.customer_group_id is not None and assignment.customer_group_id in set(customer_group_ids),
        TariffAssignment.SPECIFICITY[assignment.scope],
        assignment.priority,
        assignment.valid_from or dt.datetime.min.replace(tzinfo=dt.UTC),
        -assignment.pk,
    )


def tariff_effective(
    *,
    at: dt.datetime,
    location_ref: str = "",
    evse_ref: str = "",
    charger_group_refs: Iterable[str] = (),
    customer_group_ids: Iterable[int] = (),
) -> Tariff | None:
    """The one tariff that applies to a session starting `at` at this place for this driver."""
    group_ids = list(customer_group_ids)
    place = Q(scope=TariffAssignment.Scope.ORGANIZATION)
    if location_ref:
        place |= Q(scope=TariffAssignment.Scope.LOCATION, scope_ref=location_ref)
    if evse_ref:
        place |= Q(scope=TariffAssignment.Scope.EVSE, scope_ref=evse_ref)
    refs = list(charger_group_refs)
    if refs:
        place |= Q(scope=TariffAssignment.Scope.CHARGER_GROUP, scope_ref__in=refs)
    candidates = (
        TariffAssignment.objects.filter(place)
        .filter(Q(customer_group__isnull=True) | Q(customer_group_id__in=group_ids))
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
    )
    best = max(candidates, key=lambda a: assignment_rank(a, group_ids), default=None)
    return tariff_list().get(pk=best.tariff_id) if best else None


def tariff_estimate(
    *,
    tariff: Tariff,
    start: dt.datetime,
    end: dt.datetime,
    energy_kwh: Decimal,
    time_zone: str,
    max_power_kw: Decimal | None = None,
    parking_minutes: int = 0,
) -> engine.Result:
    """Price a planned session: energy flows evenly until `parking_minutes` before `end`; the
    maximum power is taken as the charging power for power/current restrictions."""
    charging_end = end - dt.timedelta(minutes=parking_minutes)
    if charging_end < start:
        raise engine.PricingError("parking_minutes is longer than the session.")
    session = engine.Session(
        start=start,
        end=end,
        time_zone=time_zone,
        energy_wh=energy_kwh * 1000,
        charging_end=charging_end,
        power_kw=max_power_kw,
    )
    return engine.price_session(tariff_to_domain(tariff), session)


def customer_group_ids(*, user) -> list[int]:
    """The customer groups whose prices this driver gets (none for anonymous or unknown)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(CustomerGroup.objects.filter(members=user).values_list("pk", flat=True))


def tariff_for_charging(*, charge_point, evse_id: int, user=None, at: dt.datetime) -> Tariff | None:
    """The tariff a session at this EVSE for this driver (None: anonymous) starting `at` gets:
    the one place where location, EVSE, charger groups and customer groups are gathered."""
    return tariff_effective(
        at=at,
        location_ref=str(charge_point.location_id or ""),
        evse_ref=f"{charge_point.identity}/{evse_id}",
        charger_group_refs=[str(pk) for pk in charge_point.groups.values_list("pk", flat=True)],
        customer_group_ids=customer_group_ids(user=user),
    )
