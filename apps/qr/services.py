"""Writes for QR start: codes for connectors, scans, and start/stop on a driver's behalf."""

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.chargers.models import ChargePoint
from apps.charging.models import IdToken, Transaction
from apps.charging.remote import remote_start, remote_stop
from apps.charging.services import id_token_create
from apps.qr.models import ConnectorCode, QrEvent

# No 0/O/1/I/L: people type these codes from stickers when a camera fails.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
START_TIMEOUT = 20


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


def connector_code_ensure(*, charge_point: ChargePoint, connector_id: int, evse_id: int | None = None) -> ConnectorCode:
    """The connector's code, created on first use. Safe under concurrent calls."""
    evse_id = connector_id if evse_id is None else evse_id
    existing = ConnectorCode.objects.filter(
        charge_point=charge_point, evse_id=evse_id, connector_id=connector_id
    ).first()
    if existing:
        return existing
    for _ in range(5):
        try:
            with transaction.atomic():
                return ConnectorCode.objects.create(
                    code=_new_code(), charge_point=charge_point, evse_id=evse_id, connector_id=connector_id
                )
        except IntegrityError:
            # Either another request created this connector's code, or the random code collided.
            existing = ConnectorCode.objects.filter(
                charge_point=charge_point, evse_id=evse_id, connector_id=connector_id
            ).first()
            if existing:
                return existing
    raise RuntimeError("could not allocate a connector code")


def connector_codes_ensure(*, charge_point: ChargePoint) -> list[ConnectorCode]:
    connectors = charge_point.connectors.filter(connector_id__gt=0).order_by("evse_id", "connector_id")
    return [
        connector_code_ensure(charge_point=charge_point, evse_id=c.evse_id, connector_id=c.connector_id)
        for c in connectors
    ]


def qr_scan_record(*, code: ConnectorCode, user=None) -> None:
    QrEvent.objects.create(code=code, kind=QrEvent.Kind.SCAN, user=user if user and user.is_authenticated else None)


def driver_token(*, user) -> IdToken:
    """The id token a remote start uses for this driver: their own valid card, or an
    app token created for them (type Central, as OCPP calls tokens issued by the CSMS)."""
    now = timezone.now()
    card = (
        IdToken.objects.filter(owner=user, status=IdToken.Status.ACCEPTED)
        .exclude(expires_at__lt=now)
        .order_by("type", "id")
        .first()
    )
    if card:
        return card
    app_tag = f"APP{user.pk:06d}"  # idTag is CiString20 in 1.6
    token = IdToken.objects.filter(id_token__iexact=app_tag).first()
    if token is None:
        token = id_token_create(id_token=app_tag, type=IdToken.Type.CENTRAL, owner=user, label="App / QR")
    if token.status != IdToken.Status.ACCEPTED:
        raise ValidationError("Your charging account is blocked. Contact the operator.")
    return token


@dataclass
class StartOutcome:
    accepted: bool
    message: str


def qr_start(*, code: ConnectorCode, user) -> StartOutcome:
    """RemoteStart on the code's connector for a signed-in driver."""
    token = driver_token(user=user)
    cp = code.charge_point
    if Transaction.objects.filter(charge_point=cp, evse_id=code.evse_id, status=Transaction.Status.ACTIVE).exists():
        QrEvent.objects.create(code=code, kind=QrEvent.Kind.START_REFUSED, user=user, detail="connector busy")
        return StartOutcome(False, "This connector is already charging.")
    # 1.6: RemoteStartTransaction on the connector; 2.x: RequestStartTransaction on the EVSE.
    result = remote_start(
        charge_point=cp,
        id_token=token,
        evse_id=code.evse_id,
        connector_id=code.connector_id,
        user=user,
        timeout=START_TIMEOUT,
        source="qr",
    )
    status = (result.response or {}).get("status")
    if result.status == "ok" and status == "Accepted":
        QrEvent.objects.create(code=code, kind=QrEvent.Kind.START, user=user)
        return StartOutcome(True, "Starting — plug in your car if you have not yet.")
    reason = {
        "offline": "The charger is offline right now.",
        "timeout": "The charger did not answer in time.",
    }.get(result.status, "The charger refused to start.")
    QrEvent.objects.create(
        code=code, kind=QrEvent.Kind.START_REFUSED, user=user, detail=f"{result.status} {status or ''}"
    )
    return StartOutcome(False, reason)


def qr_stop(*, code: ConnectorCode, user) -> StartOutcome:
    """RemoteStop of the driver's own session on this connector."""
    tokens = list(IdToken.objects.filter(owner=user).values_list("id_token", flat=True))
    tx = (
        Transaction.objects.filter(
            charge_point=code.charge_point,
            evse_id=code.evse_id,
            status=Transaction.Status.ACTIVE,
            id_tag__in=tokens,
        )
        .order_by("-started_at")
        .first()
    )
    if tx is None or not tx.transaction_id:
        return StartOutcome(False, "You have no session running on this connector.")
    result = remote_stop(transaction=tx, user=user, timeout=START_TIMEOUT, source="qr")
    QrEvent.objects.create(code=code, kind=QrEvent.Kind.STOP, user=user, detail=result.status)
    if result.status == "ok" and (result.response or {}).get("status") == "Accepted":
        return StartOutcome(True, "Stopping — you can unplug when the connector unlocks.")
    return StartOutcome(False, "The charger did not accept the stop. Try again or use the charger's own button.")
