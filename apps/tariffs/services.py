"""Writes for tariffs. Input is already shape-validated (apps.tariffs.ocpi serializers);
the rules that need the database (unique OCPI identity) are checked here."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.tariffs.models import (
    CustomerGroup,
    PriceComponent,
    Tariff,
    TariffAltText,
    TariffAssignment,
    TariffElement,
    TariffRestriction,
)

RESTRICTION_FIELDS = (
    "start_time",
    "end_time",
    "start_date",
    "end_date",
    "min_kwh",
    "max_kwh",
    "min_current",
    "max_current",
    "min_power",
    "max_power",
    "min_duration",
    "max_duration",
    "reservation",
)


def _parse_time(value: str | None) -> dt.time | None:
    return None if value is None else dt.time.fromisoformat(value)


def _apply_scalars(tariff: Tariff, data: dict) -> None:
    for name in ("country_code", "party_id", "type", "tariff_alt_url"):
        setattr(tariff, name, data.get(name) or "")
    tariff.currency = data["currency"]
    for name in ("min_price", "max_price"):
        price = data.get(name) or {}
        setattr(tariff, f"{name}_excl_vat", price.get("excl_vat"))
        setattr(tariff, f"{name}_incl_vat", price.get("incl_vat"))
    tariff.start_date_time = data.get("start_date_time")
    tariff.end_date_time = data.get("end_date_time")
    tariff.energy_mix = data.get("energy_mix")
    if "name" in data:
        tariff.name = data["name"] or ""
    if "idle_fee" in data:
        idle = data["idle_fee"] or {}
        tariff.idle_fee_per_hour = idle.get("price_per_hour")
        tariff.idle_fee_vat = idle.get("vat")
        tariff.idle_grace_minutes = idle.get("grace_minutes") or 0


def _write_children(tariff: Tariff, data: dict) -> None:
    """Replace alt texts and elements wholesale: OCPI always sends the full list, and the
    element order is meaningful, so patching single rows would invite inconsistencies."""
    tariff.alt_texts.all().delete()
    tariff.elements.all().delete()
    TariffAltText.objects.bulk_create(
        TariffAltText(tariff=tariff, position=i, language=t["language"], text=t["text"])
        for i, t in enumerate(data.get("tariff_alt_text") or [])
    )
    for position, item in enumerate(data["elements"]):
        element = TariffElement.objects.create(tariff=tariff, position=position)
        PriceComponent.objects.bulk_create(
            PriceComponent(
                element=element,
                position=i,
                type=pc["type"],
                price=pc["price"],
                vat=pc.get("vat"),
                step_size=pc["step_size"],
            )
            for i, pc in enumerate(item["price_components"])
        )
        restrictions = item.get("restrictions")
        if restrictions is not None:
            values = {name: restrictions.get(name) for name in RESTRICTION_FIELDS}
            values["start_time"] = _parse_time(values["start_time"])
            values["end_time"] = _parse_time(values["end_time"])
            values["reservation"] = values["reservation"] or ""
            TariffRestriction.objects.create(
                element=element, day_of_week=list(restrictions.get("day_of_week") or []), **values
            )


def _save(tariff: Tariff) -> None:
    clash = Tariff.objects.filter(
        country_code=tariff.country_code, party_id=tariff.party_id, ocpi_id=tariff.ocpi_id
    ).exclude(pk=tariff.pk)
    if clash.exists():
        raise ValidationError({"id": "A tariff with this OCPI country_code, party_id and id already exists."})
    tariff.full_clean()
    try:
        with transaction.atomic():  # savepoint: a concurrent import may win the unique constraint
            tariff.save()
    except IntegrityError as exc:
        raise ValidationError({"id": "A tariff with this OCPI country_code, party_id and id already exists."}) from exc


@transaction.atomic
def tariff_create(*, data: dict) -> Tariff:
    tariff = Tariff(ocpi_id=data.get("ocpi_id") or Tariff._meta.get_field("ocpi_id").get_default())
    _apply_scalars(tariff, data)
    tariff.last_updated = timezone.now()
    _save(tariff)
    _write_children(tariff, data)
    return tariff


@transaction.atomic
def tariff_update(*, tariff: Tariff, data: dict) -> Tariff:
    if data.get("ocpi_id"):
        tariff.ocpi_id = data["ocpi_id"]
    _apply_scalars(tariff, data)
    tariff.last_updated = timezone.now()
    _save(tariff)
    _write_children(tariff, data)
    return tariff


@transaction.atomic
def tariff_import_ocpi(*, data: dict, name: str = "") -> Tariff:
    """Create a tariff from a validated OCPI 2.2.1 Tariff object, keeping its id and last_updated."""
    tariff = Tariff(ocpi_id=data["id"], name=name)
    _apply_scalars(tariff, data)
    tariff.last_updated = data.get("last_updated") or timezone.now()
    _save(tariff)
    _write_children(tariff, data)
    return tariff


@transaction.atomic
def tariff_delete(*, tariff: Tariff) -> None:
    tariff.delete()


@transaction.atomic
def customer_group_create(*, name: str, kind: str) -> CustomerGroup:
    group = CustomerGroup(name=name, kind=kind)
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def customer_group_set_members(*, group: CustomerGroup, users) -> CustomerGroup:
    group.members.set(users)
    return group


@transaction.atomic
def tariff_assign(
    *,
    tariff: Tariff,
    scope: str,
    scope_ref: str = "",
    customer_group: CustomerGroup | None = None,
    priority: int = 0,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
) -> TariffAssignment:
    assignment = TariffAssignment(
        tariff=tariff,
        scope=scope,
        scope_ref=scope_ref,
        customer_group=customer_group,
        priority=priority,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def tariff_assignment_delete(*, assignment: TariffAssignment) -> None:
    assignment.delete()


@transaction.atomic
def customer_group_delete(*, group: CustomerGroup) -> None:
    group.delete()  # its assignments go with it: they name the group and mean nothing without it
