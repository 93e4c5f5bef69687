"""Firmware management (OCPP block L, and 1.6 Firmware Management): single updates,
campaigns over many chargers, and publishing an image on a local controller.

A FirmwareUpdate is one UpdateFirmware to one charger. OCPP 2.x stations report progress
with FirmwareStatusNotification carrying the update's requestId; 1.6 stations send
theirs without any id, so a 1.6 update follows the charger's firmware notifications
(ChargerEvent rows the 1.6 session keeps) that arrived after it was sent.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from apps.chargers import services as chargers
from apps.chargers.models import ChargePoint, ChargerEvent, ProtocolVersion
from apps.core.tenancy import queue_after_commit
from apps.core.timefmt import iso_utc
from apps.csms import commands
from apps.smartcharging.models import FirmwareCampaign, FirmwarePublication, FirmwareUpdate
from apps.smartcharging.models import FirmwareUpdate as FU
from apps.smartcharging.validation import parse_ts

log = logging.getLogger(__name__)

SUCCESS = {"Installed"}
FAILURES = {"DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature"}
REFUSALS = {"Rejected", "InvalidCertificate", "RevokedCertificate"}
UNDELIVERED = {"offline", "timeout", "error"}
# Superseded by a newer UpdateFirmware (the charger answered AcceptedCanceled to it).
CANCELED = "Canceled"
TERMINAL = SUCCESS | FAILURES | {CANCELED}
# 1.6 FirmwareStatusNotification carries no requestId: these are the statuses it can send.
V16_STATUSES = {"Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing", "Installed"}


def phase(update: FirmwareUpdate) -> str:
    """installed | failed | refused | undelivered | in_progress | pending (the campaign's buckets)."""
    if update.status in SUCCESS:
        return "installed"
    if update.status in FAILURES or update.status == CANCELED:
        return "failed"
    if update.answer in REFUSALS:
        return "refused"
    if update.answer in UNDELIVERED:
        return "undelivered"
    if update.answer and update.answer != "sending":
        return "in_progress"
    return "pending"


def _signed_16(update: FirmwareUpdate) -> bool:
    return update.protocol == ProtocolVersion.OCPP16 and update.signed


def _next_request_id(charge_point_id: int) -> int:
    top = FirmwareUpdate.objects.filter(charge_point_id=charge_point_id).aggregate(m=Max("request_id"))["m"]
    return (top or 0) + 1


@transaction.atomic
def firmware_update_create(
    *,
    charge_point: ChargePoint,
    location: str,
    retrieve_at: datetime,
    install_at: datetime | None = None,
    signing_certificate: str = "",
    signature: str = "",
    retries: int | None = None,
    retry_interval: int | None = None,
    campaign: FirmwareCampaign | None = None,
    user=None,
) -> FirmwareUpdate:
    if not location:
        raise ValidationError("A firmware location (URL) is required.")
    if bool(signing_certificate) != bool(signature):
        raise ValidationError("Signed firmware needs both the signing certificate and the signature.")
    protocol = charge_point.protocol_version
    signed = bool(signature)
    # Serialise request id allocation per charger (unique constraint as the backstop).
    ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).first()
    needs_id = protocol != ProtocolVersion.OCPP16 or signed
    update = FirmwareUpdate.objects.create(
        charge_point=charge_point,
        campaign=campaign,
        request_id=_next_request_id(charge_point.pk) if needs_id else None,
        protocol=protocol,
        location=location,
        retrieve_at=retrieve_at,
        install_at=install_at,
        signed=signed,
        signing_certificate=signing_certificate,
        signature=signature,
        retries=retries,
        retry_interval=retry_interval,
        created_by=user,
    )
    return update


def firmware_update_payload(update: FirmwareUpdate) -> tuple[str, dict]:
    """(action, payload) for the charger's protocol."""
    retries, retry_interval = update.retries, update.retry_interval
    signing_certificate, signature = update.signing_certificate, update.signature
    if update.protocol == ProtocolVersion.OCPP16 and not signature:
        payload = {"location": update.location, "retrieveDate": iso_utc(update.retrieve_at)}
        if retries is not None:
            payload["retries"] = retries
        if retry_interval is not None:
            payload["retryInterval"] = retry_interval
        return "UpdateFirmware", payload
    firmware = {"location": update.location, "retrieveDateTime": iso_utc(update.retrieve_at)}
    if update.install_at:
        firmware["installDateTime"] = iso_utc(update.install_at)
    if signature:
        firmware["signingCertificate"] = signing_certificate
        firmware["signature"] = signature
    payload = {"requestId": update.request_id, "firmware": firmware}
    if retries is not None:
        payload["retries"] = retries
    if retry_interval is not None:
        payload["retryInterval"] = retry_interval
    # OCPP 1.6 security extension: signed firmware goes in SignedUpdateFirmware.
    return ("SignedUpdateFirmware" if update.protocol == ProtocolVersion.OCPP16 else "UpdateFirmware"), payload


@transaction.atomic
def firmware_update_answer_record(
    *,
    charge_point_id: int,
    request_id: int | None,
    answer: str,
    answer_info: dict | None = None,
    payload: dict | None = None,
    update_id: int | None = None,
    command_id: int | None = None,
) -> FirmwareUpdate | None:
    """The charger answered UpdateFirmware (or it never got it: offline/timeout/error).
    Also for updates sent from the raw console: then the row is made from the payload."""
    now = timezone.now()
    if update_id is not None:
        qs = FirmwareUpdate.objects.filter(pk=update_id)
    elif request_id is not None:
        qs = FirmwareUpdate.objects.filter(charge_point_id=charge_point_id, request_id=request_id)
    else:
        return None
    update = qs.select_for_update().first()
    if update is None:
        firmware = (payload or {}).get("firmware") or {}
        cp = ChargePoint.objects.get(pk=charge_point_id)
        update = FirmwareUpdate.objects.create(
            charge_point_id=charge_point_id,
            request_id=request_id,
            protocol=cp.protocol_version,
            location=firmware.get("location", ""),
            retrieve_at=_parse(firmware.get("retrieveDateTime")),
            install_at=_parse(firmware.get("installDateTime")),
            signed=bool(firmware.get("signature")),
        )
    fields = {"answer": answer, "answer_info": answer_info, "sent_at": update.sent_at or now}
    if command_id is not None:
        fields["command_id"] = command_id
    if answer in REFUSALS:
        fields["finished_at"] = now
    FirmwareUpdate.objects.filter(pk=update.pk).update(**fields)
    if answer == "AcceptedCanceled":
        # L01.FR.24: the charger cancelled the update it was busy with for this one.
        others = FirmwareUpdate.objects.filter(charge_point_id=charge_point_id, finished_at__isnull=True).exclude(
            pk=update.pk
        )
        for other in others.filter(answer__in=["Accepted", "AcceptedCanceled"]).select_for_update():
            other.timeline = [*other.timeline, {"status": CANCELED, "at": iso_utc(now)}]
            other.status, other.finished_at = CANCELED, now
            other.save(update_fields=["timeline", "status", "finished_at"])
    update.refresh_from_db()
    return update


def _parse(value):
    try:
        return parse_ts(value)
    except ValidationError:
        return None


def firmware_update_send(*, update: FirmwareUpdate, user=None, timeout: float = 30) -> FirmwareUpdate:
    """Send one FirmwareUpdate (sync, waits for the answer) and record the answer."""

    action, payload = firmware_update_payload(update)
    try:
        result = commands.command_send(
            charge_point=update.charge_point,
            action=action,
            payload=payload,
            user=user,
            timeout=timeout,
            source="firmware",
        )
    except commands.InvalidCommand as exc:
        return firmware_update_answer_record(
            charge_point_id=update.charge_point_id,
            request_id=update.request_id,
            update_id=update.pk,
            answer="error",
            answer_info={"reasonCode": "Invalid", "additionalInfo": str(exc)[:512]},
        )
    if result.status == "ok":
        response = result.response or {}
        # 1.6 UpdateFirmware answers an empty object: the charger took it.
        answer = response.get("status") or "Accepted"
        info = response.get("statusInfo")
    else:
        answer, info = result.status, (result.error or None)
    return firmware_update_answer_record(
        charge_point_id=update.charge_point_id,
        request_id=update.request_id,
        update_id=update.pk,
        answer=answer,
        answer_info=info,
        command_id=result.command.pk,
    )


def _apply_status(update: FirmwareUpdate, status: str, at: datetime, extra: dict | None = None) -> None:
    entry = {"status": status, "at": iso_utc(at)}
    if extra:
        entry.update(extra)
    update.timeline = [*update.timeline, entry]
    update.status = status
    if status in TERMINAL:
        update.finished_at = at
    update.save(update_fields=["timeline", "status", "finished_at"])


@transaction.atomic
def firmware_status_record(
    *,
    charge_point_id: int,
    status: str,
    request_id: int | None = None,
    status_info: dict | None = None,
    kind: str = "FirmwareStatusNotification",
) -> FirmwareUpdate | None:
    """A 2.x FirmwareStatusNotification (or 1.6 SignedFirmwareStatusNotification): the
    charger's firmware status, and a step in the timeline of the update it belongs to."""
    now = timezone.now()
    chargers.charger_event_record(
        charge_point_id=charge_point_id,
        kind=kind,
        status=status,
        request_id=request_id,
        payload={"status": status, "requestId": request_id, "statusInfo": status_info},
        firmware_status=status,
    )
    if request_id is None:
        # Idle, or an answer to TriggerMessage with no update going on (L01.FR.20).
        return None
    update = (
        FirmwareUpdate.objects.select_for_update()
        .filter(charge_point_id=charge_point_id, request_id=request_id)
        .first()
    )
    if update is None:
        # An update EVzone did not send (another system, before EVzone): keep its progress anyway.
        cp = ChargePoint.objects.get(pk=charge_point_id)
        try:
            with transaction.atomic():
                update = FirmwareUpdate.objects.create(
                    charge_point_id=charge_point_id, request_id=request_id, protocol=cp.protocol_version
                )
        except IntegrityError:
            update = FirmwareUpdate.objects.select_for_update().get(
                charge_point_id=charge_point_id, request_id=request_id
            )
    _apply_status(update, status, now, {"statusInfo": status_info} if status_info else None)
    return update


def firmware_updates_sync_16(*, updates) -> int:
    """Bring unsigned 1.6 updates up to date from the FirmwareStatusNotifications the 1.6
    session stored as ChargerEvents (they carry no requestId; an update owns the events
    after it was sent and before the charger's next update was)."""
    changed = 0
    for update in updates:
        if update.protocol != ProtocolVersion.OCPP16 or update.signed or not update.sent_at:
            continue
        if update.status in TERMINAL or update.answer not in ("Accepted", ""):
            continue
        later = (
            FirmwareUpdate.objects.filter(
                charge_point_id=update.charge_point_id, sent_at__gt=update.sent_at, protocol=ProtocolVersion.OCPP16
            )
            .order_by("sent_at")
            .values_list("sent_at", flat=True)
            .first()
        )
        events = ChargerEvent.objects.filter(
            charge_point_id=update.charge_point_id, kind="FirmwareStatusNotification", timestamp__gte=update.sent_at
        )
        if later:
            events = events.filter(timestamp__lt=later)
        timeline = [
            {"status": e.status, "at": iso_utc(e.timestamp)}
            for e in events.order_by("timestamp", "id")
            if e.status in V16_STATUSES and e.status != "Idle"
        ]
        if timeline == update.timeline:
            continue
        update.timeline = timeline
        update.status = timeline[-1]["status"] if timeline else ""
        update.finished_at = timezone.now() if update.status in TERMINAL else None
        update.save(update_fields=["timeline", "status", "finished_at"])
        changed += 1
    return changed


# --------------------------------------------------------------------------- campaigns


def campaign_targets(*, charge_points=(), group=None, location=None) -> list[ChargePoint]:
    q = Q(pk__in=[cp.pk for cp in charge_points])
    if group is not None:
        q |= Q(groups=group)
    if location is not None:
        q |= Q(location=location)
    return list(ChargePoint.objects.filter(q).distinct().order_by("identity"))


@transaction.atomic
def firmware_campaign_create(
    *,
    name: str,
    location: str,
    retrieve_at: datetime,
    charge_points,
    install_at: datetime | None = None,
    signing_certificate: str = "",
    signature: str = "",
    retries: int | None = None,
    retry_interval: int | None = None,
    user=None,
) -> FirmwareCampaign:
    """A campaign with one FirmwareUpdate per charger; the sending runs in Celery after commit."""
    charge_points = list(charge_points)
    if not charge_points:
        raise ValidationError("Choose at least one charger.")
    if bool(signing_certificate) != bool(signature):
        raise ValidationError("Signed firmware needs both the signing certificate and the signature.")
    campaign = FirmwareCampaign.objects.create(
        name=name.strip() or location.rsplit("/", 1)[-1][:120],
        location=location,
        retrieve_at=retrieve_at,
        install_at=install_at,
        signing_certificate=signing_certificate,
        signature=signature,
        retries=retries,
        retry_interval=retry_interval,
        created_by=user,
    )
    for cp in charge_points:
        firmware_update_create(
            charge_point=cp,
            location=location,
            retrieve_at=retrieve_at,
            install_at=install_at,
            signing_certificate=signing_certificate,
            signature=signature,
            retries=retries,
            retry_interval=retry_interval,
            campaign=campaign,
            user=user,
        )
    _queue_campaign(campaign.pk, user.pk if user else None)
    return campaign


def _queue_campaign(campaign_id: int, user_id: int | None) -> None:
    from apps.smartcharging.tasks import firmware_campaign_send

    queue_after_commit(firmware_campaign_send, campaign_id, user_id)


def firmware_campaign_fan_out(*, campaign_id: int, user_id: int | None = None) -> int:
    """Queue one send task per charger not yet sent (one slow charger must not hold up
    the others: each send waits for its charger's answer)."""
    from apps.smartcharging.tasks import firmware_update_send_task

    ids = list(
        FirmwareUpdate.objects.filter(campaign_id=campaign_id, answer="").order_by("pk").values_list("pk", flat=True)
    )
    for pk in ids:
        firmware_update_send_task.delay(pk, user_id)
    FirmwareCampaign.objects.filter(pk=campaign_id, status=FirmwareCampaign.Status.SENDING).exclude(
        updates__answer=""
    ).update(status=FirmwareCampaign.Status.SENT)
    return len(ids)


def firmware_update_send_pending(*, update_id: int, user=None, timeout: float = 30) -> str:
    """Send one campaign update, once: a claim (answer "" -> "sending") keeps a duplicate
    task from sending it twice."""

    claimed = FU.objects.filter(pk=update_id, answer="").update(answer="sending")
    if not claimed:
        return "skipped"
    update = FU.objects.select_related("charge_point", "campaign").get(pk=update_id)
    update.answer = ""
    try:
        update = firmware_update_send(update=update, user=user, timeout=timeout)
    except Exception:
        FU.objects.filter(pk=update_id, answer="sending").update(answer="error")
        raise
    unsent = FU.objects.filter(campaign_id=update.campaign_id, answer__in=["", "sending"])
    if update.campaign_id and not unsent.exists():
        FirmwareCampaign.objects.filter(pk=update.campaign_id, status=FirmwareCampaign.Status.SENDING).update(
            status=FirmwareCampaign.Status.SENT
        )
    return update.answer


@transaction.atomic
def firmware_campaign_retry(*, campaign: FirmwareCampaign, user=None) -> int:
    """Send again to the chargers that never got it (offline, no answer, error)."""
    count = FirmwareUpdate.objects.filter(campaign=campaign, answer__in=sorted(UNDELIVERED)).update(
        answer="", answer_info=None
    )
    if count:
        FirmwareCampaign.objects.filter(pk=campaign.pk).update(status=FirmwareCampaign.Status.SENDING)
        _queue_campaign(campaign.pk, user.pk if user else None)
    return count


# --------------------------------------------------------------------------- publishing (L03/L04)


@transaction.atomic
def firmware_publication_create(*, charge_point: ChargePoint, location: str, checksum: str) -> FirmwarePublication:
    checksum = checksum.strip().lower()
    if len(checksum) != 32 or any(c not in "0123456789abcdef" for c in checksum):
        raise ValidationError("The checksum is the image's MD5: 32 hexadecimal digits.")
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        raise ValidationError("PublishFirmware is an OCPP 2.x message (local controllers).")
    ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).first()
    top = FirmwarePublication.objects.filter(charge_point=charge_point).aggregate(m=Max("request_id"))["m"]
    return FirmwarePublication.objects.create(
        charge_point=charge_point, request_id=(top or 0) + 1, location=location, checksum=checksum
    )


def firmware_publication_answer_record(
    *, charge_point_id: int, request_id: int, answer: str, payload: dict | None = None
) -> FirmwarePublication:
    pub, _ = FirmwarePublication.objects.get_or_create(
        charge_point_id=charge_point_id,
        request_id=request_id,
        defaults={"location": (payload or {}).get("location", ""), "checksum": (payload or {}).get("checksum", "")},
    )
    FirmwarePublication.objects.filter(pk=pub.pk).update(answer=answer)
    pub.answer = answer
    return pub


@transaction.atomic
def firmware_publish_status_record(
    *, charge_point_id: int, status: str, request_id: int | None = None, locations: list | None = None
) -> FirmwarePublication | None:
    """PublishFirmwareStatusNotification: progress of a publication; Published carries the
    URIs the controller now serves the image at."""
    chargers.charger_event_record(
        charge_point_id=charge_point_id,
        kind="PublishFirmwareStatusNotification",
        status=status,
        request_id=request_id,
        payload={"status": status, "location": locations or [], "requestId": request_id},
    )
    if request_id is None:
        return None
    pub = (
        FirmwarePublication.objects.select_for_update()
        .filter(charge_point_id=charge_point_id, request_id=request_id)
        .first()
    )
    if pub is None:
        pub = FirmwarePublication.objects.create(
            charge_point_id=charge_point_id, request_id=request_id, location="", checksum=""
        )
    pub.timeline = [*pub.timeline, {"status": status, "at": iso_utc(timezone.now())}]
    pub.status = status
    if locations:
        pub.published_locations = locations
    pub.save(update_fields=["timeline", "status", "published_locations"])
    return pub


def firmware_unpublished_record(*, charge_point_id: int, checksum: str, answer: str) -> int:
    if answer != "Unpublished":
        return 0
    return FirmwarePublication.objects.filter(
        charge_point_id=charge_point_id, checksum=checksum.lower(), unpublished_at__isnull=True
    ).update(unpublished_at=timezone.now())
