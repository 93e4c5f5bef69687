"""Central-system writes: settings, who may connect, boot decisions, log retention.

Command bookkeeping lives with the command port (apps.csms.commands)."""

from __future__ import annotations

import base64
import binascii
import functools
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.chargers.models import ChargePoint, RegistrationStatus
from apps.chargers.passwords import (
    check_charger_password,
    check_charger_password_cached,
    generate_charger_password,
    hash_charger_password,
)
from apps.chargers.services import charge_point_boot, charge_point_connected, charge_point_register_unknown
from apps.charging.locallists import local_list_boot
from apps.csms.models import CsmsSettings, MessageLog


def csms_settings_get() -> CsmsSettings:
    obj, _ = CsmsSettings.objects.get_or_create(pk=1)
    return obj


@transaction.atomic
def csms_settings_update(**fields) -> CsmsSettings:
    obj = CsmsSettings.objects.select_for_update().get_or_create(pk=1)[0]
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    return obj


# --------------------------------------------------------------------------- connections


@dataclass(frozen=True)
class ConnectDecision:
    allowed: bool
    charge_point_id: int | None = None
    registration_status: str = ""
    # Not decided at all: the handshake waited too long for a database thread (see below).
    overloaded: bool = False


DENIED = ConnectDecision(allowed=False)
OVERLOADED = ConnectDecision(allowed=False, overloaded=True)
IDENTITY_MAX = ChargePoint._meta.get_field("identity").max_length
MAX_PENDING_UNKNOWN = 500


@functools.cache
def _dummy_hash() -> str:
    return hash_charger_password(generate_charger_password())


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def connection_authorize(
    *,
    identity: str,
    authorization: str | None,
    secure: bool,
    client_cert_identity: str | None = None,
    queued_at: float | None = None,
    budget: float | None = None,
    connection_id: str = "",
    protocol_version: str = "",
) -> ConnectDecision:
    """Decide a websocket handshake. Every refusal looks the same to the charger (401),
    so a wrong password, an unknown identity and a wrong profile reveal nothing.

    `connection_id` / `protocol_version`: when given, an allowed charger is also recorded
    as connected on them (charge_point_connected), in the same database call: in a
    reconnect storm every call a handshake makes queues behind thousands of others.

    `queued_at` / `budget` (time.monotonic() seconds): in a reconnect storm handshakes queue
    for the database threads, and a charger whose handshake waited longer than its own
    timeout has already hung up and will try again. Hashing its password anyway (PBKDF2,
    ~15 ms) only delays everyone behind it, until no handshake finishes in time at all --
    so a handshake that waited more than `budget` and would need PBKDF2 is answered
    OVERLOADED (503, retry) without it. One whose password this process or the shared
    cache verified before costs no more than the 503 would, and is decided as usual:
    after a restart that is nearly every charger, and turning them away only sends them
    to the back of the queue again."""
    over_budget = queued_at is not None and bool(budget) and time.monotonic() - queued_at > budget
    if not identity or len(identity) > IDENTITY_MAX or not identity.isprintable():
        return DENIED
    row = (
        ChargePoint.objects.filter(identity=identity)
        .values_list("pk", "security_profile", "password_hash", "registration_status")
        .first()
    )
    if row is None:
        if over_budget:
            return OVERLOADED
        policy = csms_settings_get().unknown_identity_policy
        if policy == CsmsSettings.UnknownIdentityPolicy.REJECT:
            # Spend the time a password check takes: response time must not tell
            # which identities exist.
            check_charger_password("x" * 16, _dummy_hash())
            return DENIED
        accept = policy == CsmsSettings.UnknownIdentityPolicy.ACCEPT
        pending = ChargePoint.objects.filter(registration_status=RegistrationStatus.PENDING)
        if not accept and pending.count() >= MAX_PENDING_UNKNOWN:
            # Anyone can knock with a made-up identity; do not let them fill the table.
            return DENIED
        cp = charge_point_register_unknown(identity=identity, accept=accept)
        return _connected(ConnectDecision(True, cp.pk, cp.registration_status), connection_id, protocol_version)
    pk, profile, password_hash, registration_status = row
    if profile >= ChargePoint.SecurityProfile.BASIC_TLS and not secure:
        return DENIED
    if profile == ChargePoint.SecurityProfile.CLIENT_CERT:
        if client_cert_identity != identity:
            return DENIED
    elif profile in (ChargePoint.SecurityProfile.BASIC, ChargePoint.SecurityProfile.BASIC_TLS):
        credentials = parse_basic_auth(authorization)
        if credentials is None:
            return DENIED
        username, password = credentials
        # Always run the check, so timing does not tell a wrong user from a wrong password
        # (a cached success is fast only for whoever already knows the password).
        password_ok = check_charger_password_cached(
            password, password_hash, charge_point_id=pk, cached_only=over_budget
        )
        if password_ok is None:
            return OVERLOADED
        if username != identity or not password_ok:
            return DENIED
    return _connected(ConnectDecision(True, pk, registration_status), connection_id, protocol_version)


def _connected(decision: ConnectDecision, connection_id: str, protocol_version: str) -> ConnectDecision:
    if connection_id:
        charge_point_connected(
            charge_point_id=decision.charge_point_id, connection_id=connection_id, protocol_version=protocol_version
        )
    return decision


def boot_accept(*, charge_point_id: int, **boot_fields) -> tuple[str, int]:
    """Store BootNotification data; return (registration status, interval to send). An
    Accepted charger that carries a local authorisation list gets a check of it queued
    (local_list_boot), in the same database call: in a reconnect storm every call a
    boot makes queues behind thousands of others."""
    status, own_interval = charge_point_boot(charge_point_id=charge_point_id, **boot_fields)
    local_list_boot(charge_point_id=charge_point_id, registration_status=status)
    settings = csms_settings_get()
    if status == RegistrationStatus.ACCEPTED:
        return status, own_interval or settings.heartbeat_interval
    return status, settings.pending_retry_interval


def registration_status_get(*, charge_point_id: int) -> str:
    return ChargePoint.objects.filter(pk=charge_point_id).values_list("registration_status", flat=True).first() or ""


def message_log_purge(*, now=None) -> int:
    days = csms_settings_get().message_log_retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = MessageLog.objects.filter(timestamp__lt=cutoff).delete()
    return deleted
