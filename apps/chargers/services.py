"""Writes for chargers: registration, connection state, boot data, status, configuration."""

import copy
import functools
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.chargers import ocpi
from apps.chargers.events import BootAccepted, ChargerConnected, ChargerDisconnected, ConnectorStatusChanged
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
from apps.core.db import savepoint_if_nested, update_returning
from apps.core.events import publish

# A charger counts as offline when nothing arrived for this many heartbeat
# intervals plus a grace period (network jitter, batched last-seen writes).
OFFLINE_AFTER_INTERVALS = 2
OFFLINE_GRACE = timedelta(seconds=60)

# vendor / model can be declared before the charger first boots (bulk onboarding);
# its BootNotification then overwrites them with what the hardware reports.
_EDITABLE = ("name", "location", "security_profile", "registration_status", "heartbeat_interval", "vendor", "model")


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
    vendor: str = "",
    model: str = "",
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
        vendor=vendor,
        model=model,
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
    # Plain SQL: one of the few calls every handshake of a reconnect storm makes.
    update_returning(
        ChargePoint,
        {
            "online": True,
            "connected_at": at,
            "last_seen": at,
            "connection_id": connection_id,
            "protocol_version": protocol_version,
        },
        where="id = %s",
        params=[charge_point_id],
        returning="id",
    )
    publish(
        ChargerConnected(
            charge_point_id=charge_point_id, connection_id=connection_id, protocol_version=protocol_version, at=at
        )
    )


def charge_point_disconnected(
    *,
    charge_point_id: int,
    connection_id: str,
    at: datetime | None = None,
    cause: str = "closed",
    close_code: int | None = None,
) -> bool:
    """Mark offline, unless a newer connection of the same charger took over meanwhile
    (then the charger never went offline and nothing is published)."""
    at = at or timezone.now()
    went_offline = bool(
        ChargePoint.objects.filter(pk=charge_point_id, connection_id=connection_id).update(
            online=False, last_seen=at, connection_id=""
        )
    )
    if went_offline:
        publish(ChargerDisconnected(charge_point_id=charge_point_id, cause=cause, at=at, close_code=close_code))
    return went_offline


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
    # Locked, not re-read: a charger revived between the read and the write must stay online.
    with transaction.atomic():
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not ids:
            return 0
        ChargePoint.objects.filter(pk__in=ids).update(online=False)
        publish(*(ChargerDisconnected(charge_point_id=pk, cause="stale", at=now) for pk in ids))
    return len(ids)


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
) -> tuple[str, int | None]:
    """Store a BootNotification's station data; returns the charger's (registration status,
    own heartbeat interval or None).

    One UPDATE ... RETURNING: in a reconnect storm every charger boots at once, and locking
    the row, loading every column and saving every column back (in a transaction of its
    own) made this the costliest call of a reconnect."""
    row = update_returning(
        ChargePoint,
        {
            "vendor": vendor,
            "model": model,
            "serial_number": serial_number,
            "charge_box_serial_number": charge_box_serial_number,
            "firmware_version": firmware_version,
            "iccid": iccid,
            "imsi": imsi,
            "meter_type": meter_type,
            "meter_serial_number": meter_serial_number,
            "last_boot_at": (values_at := timezone.now()),
        },
        where="id = %s",
        params=[charge_point_id],
        returning="registration_status, heartbeat_interval",
    )
    if row is None:
        raise ChargePoint.DoesNotExist(f"charge point {charge_point_id} does not exist")
    publish(
        BootAccepted(
            charge_point_id=charge_point_id,
            registration_status=row[0],
            firmware_version=firmware_version,
            at=values_at,
        )
    )
    return row


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
    """Store a StatusNotification: a history row, and the connector's current state unless
    a newer notification already set it (notifications queued while offline arrive late).
    Returns the connector as it is now.

    The central system batches these (apps.csms.batching -> connector_status_record_many,
    one statement); this is that statement for one notification, plus the read back."""
    connector_status_record_many(
        items=[
            {
                "charge_point_id": charge_point_id,
                "evse_id": evse_id,
                "connector_id": connector_id,
                "status": status,
                "timestamp": timestamp,
                "error_code": error_code,
                "info": info,
                "vendor_id": vendor_id,
                "vendor_error_code": vendor_error_code,
            }
        ]
    )
    return Connector.objects.get(charge_point_id=charge_point_id, evse_id=evse_id, connector_id=connector_id)


def connector_status_record_many(*, items: list[dict]) -> list[None]:
    """connector_status_record for many notifications (apps.csms.batching) in one statement
    over one array per column, so all or nothing without BEGIN and COMMIT: every one goes to
    the history, and each connector ends as the notifications would leave it one after the
    other -- the newest timestamp wins, and of equal timestamps the later one."""
    sql, params = _connector_status_sql()
    notifications = [{"error_code": "", "info": "", "vendor_id": "", "vendor_error_code": "", **i} for i in items]
    values = {"received_at": timezone.now()}
    for name in params:
        if name.startswith("default:"):
            values[name] = Connector._meta.get_field(name[8:]).get_default()
        elif name != "received_at":  # a column of the notifications: one array
            values[name] = [n[name] for n in notifications]
    with savepoint_if_nested(), connection.cursor() as cursor:
        cursor.execute(sql, [values[name] for name in params])
        changed = cursor.fetchall()
    # One publish per batch, and only for connectors whose state this batch changed.
    publish(*(event for row in changed if (event := _status_change(row)) is not None))
    return [None] * len(items)


def _status_change(row: tuple) -> ConnectorStatusChanged | None:
    cp_id, evse_id, connector_id, status, error_code, vendor_error, at, old_status, old_error, old_vendor = row
    if (status, error_code, vendor_error) == (old_status, old_error, old_vendor):
        return None  # the same state reported again
    return ConnectorStatusChanged(
        charge_point_id=cp_id,
        evse_id=evse_id,
        connector_id=connector_id,
        old_status=old_status or "",
        status=status,
        error_code=error_code,
        vendor_error_code=vendor_error,
        old_error_code=old_error or "",
        at=at,
    )


_STATUS_FIELDS = ("status", "error_code", "info", "vendor_id", "vendor_error_code")


@functools.cache
def _connector_status_sql() -> tuple[str, tuple[str, ...]]:
    """connector_status_record_many's statement and the order of its parameters: the columns
    of the notifications as arrays (unnested in request order), the received time and the
    new-connector defaults as single values. The upsert takes one row per connector (ON
    CONFLICT may not touch a row twice in one statement): the one sequential statements
    would have left. Built from the models, so a new Connector column (with its Python
    default) needs no change here: a new connector gets every other column's default (the
    table has no database defaults) as parameters named "default:<column>"."""
    qn = connection.ops.quote_name
    history, conn = ConnectorStatusHistory._meta.db_table, Connector._meta.db_table
    params: list[str] = []

    def param(name: str, db_type: str) -> str:
        params.append(name)
        return f"CAST(%s AS {db_type})"

    keys = ("charge_point_id", "evse_id", "connector_id")
    arrays = {
        **{k: "bigint[]" if k == "charge_point_id" else "integer[]" for k in keys},
        **{f: "text[]" for f in _STATUS_FIELDS},
        "timestamp": "timestamptz[]",
    }
    unnest = ", ".join(param(name, db_type) for name, db_type in arrays.items())
    v_cols = ", ".join(qn(name) for name in arrays)
    history_cols = [*keys, *_STATUS_FIELDS, "timestamp"]
    history_sql = (
        f"INSERT INTO {qn(history)} ({', '.join(qn(c) for c in history_cols)}, {qn('received_at')}) "
        f"SELECT {', '.join(f'v.{qn(c)}' for c in history_cols)}, {param('received_at', 'timestamptz')} "
        "FROM v ORDER BY v.ord"
    )
    insert_cols, insert_vals = [], []
    for f in Connector._meta.concrete_fields:
        if f.primary_key:
            continue
        insert_cols.append(qn(f.column))
        if f.column in keys or f.column in _STATUS_FIELDS:
            insert_vals.append(f"l.{qn(f.column)}")
        elif f.column == "status_at":
            insert_vals.append(f"l.{qn('timestamp')}")
        else:
            insert_vals.append(param(f"default:{f.attname}", f.db_type(connection)))
    updates = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in (*_STATUS_FIELDS, "status_at"))
    key_list = ", ".join(f"v.{qn(k)}" for k in keys)
    key_cols = ", ".join(qn(k) for k in keys)
    # The connectors' states before this statement: every part of one statement reads the
    # same snapshot, so `old` sees the rows as they were before the upsert below changed them.
    old_sql = (
        f"SELECT {', '.join(f'o.{qn(c)}' for c in (*keys, 'status', 'error_code', 'vendor_error_code'))} "
        f"FROM {qn(conn)} o WHERE ({', '.join(f'o.{qn(k)}' for k in keys)}) IN (SELECT {key_list} FROM v)"
    )
    returned = (*keys, "status", "error_code", "vendor_error_code", "status_at")
    sql = (
        f"WITH v AS (SELECT * FROM unnest({unnest}) WITH ORDINALITY AS v({v_cols}, ord)), "
        f"history AS ({history_sql}), "
        f"old AS ({old_sql}), "
        f"latest AS (SELECT DISTINCT ON ({key_list}) * FROM v "
        f"ORDER BY {key_list}, v.{qn('timestamp')} DESC, v.ord DESC), "
        f"up AS (INSERT INTO {qn(conn)} AS c ({', '.join(insert_cols)}) SELECT {', '.join(insert_vals)} FROM latest l "
        f"ON CONFLICT ({key_cols}) DO UPDATE SET {updates} "
        "WHERE c.status_at IS NULL OR c.status_at <= EXCLUDED.status_at "
        f"RETURNING {', '.join(f'c.{qn(c)}' for c in returned)}) "
        f"SELECT {', '.join(f'up.{qn(c)}' for c in returned)}, old.{qn('status')}, old.{qn('error_code')}, "
        f"old.{qn('vendor_error_code')} FROM up LEFT JOIN old USING ({key_cols})"
    )
    return sql, tuple(params)


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
    """Record a configuration change the charger accepted."""
    ConfigurationKey.objects.update_or_create(charge_point_id=charge_point_id, key=key, defaults={"value": value})
    # The offline sweep judges silence by the heartbeat interval: keep it in step.
    if key == "HeartbeatInterval" and value.strip().isdigit() and int(value) >= 10:
        ChargePoint.objects.filter(pk=charge_point_id).update(heartbeat_interval=int(value))


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


# Fields a caller may set on a location; the rest (ids, timestamps) belong to the database.
LOCATION_FIELDS = (
    "name",
    "address",
    "postal_code",
    "city",
    "state",
    "country",
    "latitude",
    "longitude",
    "time_zone",
    "parking_type",
    "facilities",
    "opening_times",
    "charging_when_closed",
    "images",
    "directions",
    "energy_mix",
    "publish",
    "publish_allowed_to",
    "operator_name",
    "operator_website",
    "suboperator_name",
    "suboperator_website",
    "owner_name",
    "owner_website",
)
_LOCATION_JSON = {
    "facilities": ocpi.validate_facilities,
    "opening_times": ocpi.validate_opening_times,
    "images": ocpi.validate_images,
    "directions": ocpi.validate_directions,
    "energy_mix": ocpi.validate_energy_mix,
    "publish_allowed_to": ocpi.validate_publish_allowed_to,
}


@transaction.atomic
def location_create(*, name: str, **fields) -> Location:
    location = Location()
    _location_apply(location, {"name": name, **fields})
    location.save()
    return location


@transaction.atomic
def location_update(*, location: Location, **fields) -> Location:
    # Work on a copy: a rejected update must not leave the caller's object half-changed.
    updated = copy.copy(location)
    _location_apply(updated, fields)
    updated.save()
    location.__dict__.update(updated.__dict__)
    return location


def location_validate(*, location: Location | None = None, **fields) -> None:
    """The checks of location_create/update without saving (for forms that want
    every error next to its field before anything is written)."""
    _location_apply(copy.copy(location) if location else Location(), fields)


def _location_apply(location: Location, fields: dict) -> None:
    """Set, normalise and validate; every problem of every field in one ValidationError."""
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if name not in LOCATION_FIELDS:
            errors.setdefault(name, []).append("This field cannot be set.")
            continue
        if name in _LOCATION_JSON:
            try:
                value = _LOCATION_JSON[name](value)
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
                continue
            if value is None and name not in ("opening_times", "energy_mix"):
                value = []
        elif name == "country":
            value = (value or "").strip().upper()
        elif name == "parking_type" and value:
            try:
                value = ocpi.enum_value(value, ocpi.PARKING_TYPES, "Parking type")
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
                continue
        elif isinstance(value, str) and name not in ("time_zone",):
            value = value.strip()
        setattr(location, name, value)
    try:
        location.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if location.publish and not errors:
        # OCPI requires these on every Location; a published one must be complete.
        missing = [f for f in ("address", "city", "latitude", "longitude") if getattr(location, f) in (None, "")]
        if missing:
            errors["publish"] = [f"A published location needs {', '.join(missing)} (OCPI requires them)."]
    if location.publish and location.publish_allowed_to and "publish_allowed_to" not in errors:
        errors["publish_allowed_to"] = ["Only for unpublished locations: it lists who may still see it."]
    if errors:
        raise ValidationError(errors)


# ----------------------------------------------------------------------------- connectors

CONNECTOR_ATTRIBUTES = ("standard", "format", "power_type", "max_voltage", "max_amperage", "max_electric_power")
EVSE_ATTRIBUTES = ("evse_uid", "ocpi_evse_id", "physical_reference")
_ENUMS = {
    "standard": (ocpi.CONNECTOR_TYPES, "Connector standard"),
    "format": (ocpi.CONNECTOR_FORMATS, "Connector format"),
    "power_type": (ocpi.POWER_TYPES, "Power type"),
}
# Sanity limits: typos (22000 typed as max_voltage) fail loudly instead of reaching OCPI.
_LIMITS = {"max_voltage": 2_000, "max_amperage": 3_000, "max_electric_power": 3_000_000}


@transaction.atomic
def connector_declare(*, charge_point: ChargePoint, evse_id: int, connector_id: int, **attrs) -> Connector:
    """Create or update a connector's physical attributes, before or after the charger
    ever connected. StatusNotification later only touches the status fields."""
    if not isinstance(evse_id, int) or not isinstance(connector_id, int) or evse_id < 1 or connector_id < 1:
        raise ValidationError({"connector_id": "EVSE and connector numbers start at 1 (0 is the charger itself)."})
    clean = connector_attributes_clean(attrs)
    connector, _ = Connector.objects.select_for_update().get_or_create(
        charge_point=charge_point, evse_id=evse_id, connector_id=connector_id
    )
    _connector_save(connector, clean)
    return connector


@transaction.atomic
def connector_update(*, connector: Connector, **attrs) -> Connector:
    _connector_save(connector, connector_attributes_clean(attrs))
    return connector


@transaction.atomic
def connector_remove(*, connector: Connector) -> None:
    # A connector the charger reported exists in hardware; only declarations that never
    # reported a status (a typo, a planned outlet) can go. The charger re-creates the rest.
    if connector.status_at is not None:
        raise ValidationError("This connector has reported its status; it cannot be removed.")
    connector.delete()


def connector_attributes_clean(attrs: dict) -> dict:
    """Normalise and check declared attributes without touching the database."""
    errors: dict[str, list[str]] = {}
    clean = {}
    for name, value in attrs.items():
        try:
            if name in _ENUMS:
                allowed, what = _ENUMS[name]
                value = ocpi.enum_value(value, allowed, what) if value else ""
            elif name in _LIMITS:
                if value in (None, ""):
                    value = None
                else:
                    try:
                        value = int(value)
                    except (TypeError, ValueError) as exc:
                        raise ValidationError(f"{value!r} is not a whole number.") from exc
                    if not 0 < value <= _LIMITS[name]:
                        raise ValidationError(f"Must be between 1 and {_LIMITS[name]}.")
            elif name == "ocpi_evse_id":
                value = ocpi.validate_emi3_evse_id(value or "")
            elif name in EVSE_ATTRIBUTES:
                value = (value or "").strip()
            else:
                raise ValidationError("This field cannot be set.")
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            continue
        clean[name] = value
    if errors:
        raise ValidationError(errors)
    return clean


def _connector_save(connector: Connector, clean: dict) -> None:
    for name, value in clean.items():
        setattr(connector, name, value)
    ocpi.check_power_type(connector.standard, connector.power_type)
    connector.full_clean(exclude=["charge_point"])
    evse = {name: clean[name] for name in EVSE_ATTRIBUTES if name in clean}
    siblings = Connector.objects.filter(charge_point=connector.charge_point_id, evse_id=connector.evse_id)
    for name in ("evse_uid", "ocpi_evse_id"):
        # OCPI identifies an EVSE by these; two EVSEs sharing one would merge in roaming.
        value = evse.get(name)
        if value:
            clash = (
                Connector.objects.filter(**{name: value})
                .exclude(charge_point=connector.charge_point_id, evse_id=connector.evse_id)
                .select_related("charge_point")
                .first()
            )
            if clash:
                raise ValidationError(
                    {name: f"{value} is already used by {clash.charge_point.identity} EVSE {clash.evse_id}."}
                )
    connector.save()
    if evse:
        siblings.exclude(pk=connector.pk).update(**evse)
        return
    # A new connector on an existing EVSE inherits the EVSE's identifiers.
    other = siblings.exclude(pk=connector.pk).first()
    if other and not any(getattr(connector, n) for n in EVSE_ATTRIBUTES):
        for name in EVSE_ATTRIBUTES:
            setattr(connector, name, getattr(other, name))
        connector.save(update_fields=list(EVSE_ATTRIBUTES))
