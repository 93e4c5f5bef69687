"""Writes for chargers: registration, connection state, boot data, status, configuration."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.chargers.models import (
    ChargePoint,
    ChargerEvent,
    ConfigurationKey,
    Connector,
    ConnectorStatusHistory,
    Location,
    RegistrationStatus,
)
from apps.chargers.passwords import hash_charger_password

# A charger counts as offline when nothing arrived for this many heartbeat
# intervals plus a grace period (network jitter, batched last-seen writes).
OFFLINE_AFTER_INTERVALS = 2
OFFLINE_GRACE = timedelta(seconds=60)

_EDITABLE = ("name", "location", "security_profile", "registration_status", "heartbeat_interval")


@transaction.atomic
def charge_point_create(
    *,
    identity: str,
    password: str | None = None,
    security_profile: int = 1,
    registration_status: str = RegistrationStatus.ACCEPTED,
    name: str = "",
    location: Location | None = None,
    heartbeat_interval: int | None = None,
    protocol_version: str | None = None,
) -> ChargePoint:
    identity = identity.strip()
    if ChargePoint.objects.filter(identity=identity).exists():
        raise ValidationError({"identity": "A charger with this identity already exists."})
    cp = ChargePoint(
        identity=identity,
        security_profile=security_profile,
        registration_status=registration_status,
        name=name,
        location=location,
        heartbeat_interval=heartbeat_interval,
    )
    if protocol_version:
        cp.protocol_version = protocol_version
    if password:
        cp.password_hash = _hash(password)
    _check_profile(cp)
    cp.full_clean()
    cp.save()
    return cp


@transaction.atomic
def charge_point_update(*, charge_point: ChargePoint, password: str | None = None, **fields) -> ChargePoint:
    for name, value in fields.items():
        if name not in _EDITABLE:
            raise ValidationError({name: "This field cannot be changed."})
        setattr(charge_point, name, value)
    if password:
        charge_point.password_hash = _hash(password)
    _check_profile(charge_point)
    charge_point.full_clean()
    charge_point.save()
    return charge_point


def _hash(password: str) -> str:
    try:
        return hash_charger_password(password)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _check_profile(cp: ChargePoint) -> None:
    if cp.security_profile in (1, 2) and not cp.password_hash:
        raise ValidationError({"password": "Security profiles 1 and 2 need a password (16-40 characters)."})


@transaction.atomic
def charge_point_register_unknown(*, identity: str, accept: bool) -> ChargePoint:
    """A charger nobody created connected and the organisation lets it in.

    It gets profile 0 (it presented no password we could check); the operator
    sets a password and raises the profile when accepting it.
    """
    cp, _ = ChargePoint.objects.get_or_create(
        identity=identity,
        defaults={
            "security_profile": ChargePoint.SecurityProfile.NONE,
            "registration_status": RegistrationStatus.ACCEPTED if accept else RegistrationStatus.PENDING,
        },
    )
    return cp


def charge_point_connected(
    *, charge_point_id: int, connection_id: str, protocol_version: str, at: datetime | None = None
) -> None:
    at = at or timezone.now()
    ChargePoint.objects.filter(pk=charge_point_id).update(
        online=True, connected_at=at, last_seen=at, connection_id=connection_id, protocol_version=protocol_version
    )


def charge_point_disconnected(*, charge_point_id: int, connection_id: str, at: datetime | None = None) -> bool:
    """Mark offline, unless a newer connection of the same charger took over meanwhile."""
    at = at or timezone.now()
    return bool(
        ChargePoint.objects.filter(pk=charge_point_id, connection_id=connection_id).update(
            online=False, last_seen=at, connection_id=""
        )
    )


def charge_points_touch(*, charge_point_ids, at: datetime) -> None:
    # Batched by the message-log writer; never move last_seen backwards.
    ChargePoint.objects.filter(pk__in=list(charge_point_ids)).filter(
        Q(last_seen__isnull=True) | Q(last_seen__lt=at)
    ).update(last_seen=at)


def charge_points_mark_stale_offline(*, now: datetime | None = None, default_interval: int = 300) -> int:
    """Offline every charger that has been silent too long: covers a server process that died
    with its sockets (nobody ran the disconnect handler)."""
    now = now or timezone.now()
    silence = ExpressionWrapper(
        Coalesce(F("heartbeat_interval"), Value(default_interval)) * Value(timedelta(seconds=OFFLINE_AFTER_INTERVALS)),
        output_field=DurationField(),
    )
    stale = (
        ChargePoint.objects.filter(online=True)
        .annotate(silence=silence)
        .filter(Q(last_seen__isnull=True) | Q(last_seen__lt=Value(now - OFFLINE_GRACE) - F("silence")))
    )
    # connection_id stays: if the charger was only quiet, its next frame revives it (charge_points_revive).
    return ChargePoint.objects.filter(pk__in=stale.values("pk")).update(online=False)


def charge_points_revive(*, connections: dict[int, str]) -> int:
    """Chargers that sent frames on their current connection are online, even if the sweep
    took them for dead (a charger heartbeating less often than we asked). A frame from a
    connection that has since closed or been replaced revives nothing."""
    revived = 0
    offline = ChargePoint.objects.filter(pk__in=list(connections), online=False).exclude(connection_id="")
    for pk, connection_id in offline.values_list("pk", "connection_id"):
        if connections.get(pk) == connection_id:
            revived += ChargePoint.objects.filter(pk=pk, connection_id=connection_id).update(online=True)
    return revived


@transaction.atomic
def charge_point_boot(
    *,
    charge_point_id: int,
    vendor: str,
    model: str,
    serial_number: str = "",
    charge_box_serial_number: str = "",
    firmware_version: str = "",
    iccid: str = "",
    imsi: str = "",
    meter_type: str = "",
    meter_serial_number: str = "",
) -> ChargePoint:
    cp = ChargePoint.objects.select_for_update().get(pk=charge_point_id)
    cp.vendor, cp.model = vendor, model
    cp.serial_number, cp.charge_box_serial_number = serial_number, charge_box_serial_number
    cp.firmware_version, cp.iccid, cp.imsi = firmware_version, iccid, imsi
    cp.meter_type, cp.meter_serial_number = meter_type, meter_serial_number
    cp.last_boot_at = timezone.now()
    cp.save()
    return cp


@transaction.atomic
def connector_status_record(
    *,
    charge_point_id: int,
    evse_id: int,
    connector_id: int,
    status: str,
    timestamp: datetime,
    error_code: str = "",
    info: str = "",
    vendor_id: str = "",
    vendor_error_code: str = "",
) -> Connector:
    fields = {
        "status": status,
        "error_code": error_code,
        "info": info,
        "vendor_id": vendor_id,
        "vendor_error_code": vendor_error_code,
    }
    ConnectorStatusHistory.objects.create(
        charge_point_id=charge_point_id, evse_id=evse_id, connector_id=connector_id, timestamp=timestamp, **fields
    )
    connector, created = Connector.objects.get_or_create(
        charge_point_id=charge_point_id,
        evse_id=evse_id,
        connector_id=connector_id,
        defaults={**fields, "status_at": timestamp},
    )
    if not created:
        # Notifications queued while offline arrive late: an older one must not
        # overwrite the state a newer one already set.
        Connector.objects.filter(pk=connector.pk).filter(
            Q(status_at__isnull=True) | Q(status_at__lte=timestamp)
        ).update(**fields, status_at=timestamp)
        connector.refresh_from_db()
    return connector


@transaction.atomic
def configuration_store(*, charge_point_id: int, keys: list[dict], complete: bool) -> int:
    """Store a GetConfiguration answer. `complete`: the request asked for every key,
    so keys the charger no longer reports are removed."""
    seen = []
    for item in keys:
        key = item["key"]
        seen.append(key)
        ConfigurationKey.objects.update_or_create(
            charge_point_id=charge_point_id,
            key=key,
            defaults={"value": item.get("value") or "", "readonly": bool(item.get("readonly", False))},
        )
    if complete:
        ConfigurationKey.objects.filter(charge_point_id=charge_point_id).exclude(key__in=seen).delete()
    return len(seen)


def configuration_key_set(*, charge_point_id: int, key: str, value: str) -> None:
    ConfigurationKey.objects.update_or_create(charge_point_id=charge_point_id, key=key, defaults={"value": value})


def charger_event_record(
    *,
    charge_point_id: int,
    kind: str,
    status: str = "",
    request_id: int | None = None,
    info: str = "",
    payload: dict | None = None,
    timestamp: datetime | None = None,
    firmware_status: str | None = None,
    diagnostics_status: str | None = None,
) -> ChargerEvent:
    event = ChargerEvent.objects.create(
        charge_point_id=charge_point_id,
        kind=kind,
        status=status[:60],
        request_id=request_id,
        info=info,
        payload=payload or {},
        timestamp=timestamp or timezone.now(),
    )
    changes = {}
    if firmware_status is not None:
        changes["firmware_status"] = firmware_status
    if diagnostics_status is not None:
        changes["diagnostics_status"] = diagnostics_status
    if changes:
        ChargePoint.objects.filter(pk=charge_point_id).update(**changes)
    return event


@transaction.atomic
def charge_point_delete(*, charge_point: ChargePoint) -> None:
    # Transactions are money and history: a charger that has any is kept (set it Rejected instead).
    if charge_point.transactions.exists():
        raise ValidationError("This charger has transactions and cannot be deleted; reject it instead.")
    charge_point.delete()


def charge_point_set_local_list_version(*, charge_point_id: int, version: int) -> None:
    ChargePoint.objects.filter(pk=charge_point_id).update(local_list_version=version)


@transaction.atomic
def location_create(**fields) -> Location:
    location = Location(**fields)
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_update(*, location: Location, **fields) -> Location:
    for name, value in fields.items():
        setattr(location, name, value)
    location.full_clean()
    location.save()
    return location
