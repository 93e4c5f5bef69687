"""Log uploads: GetLog (2.x) and GetDiagnostics (1.6) with an upload target on the
organisation's own domain, the station's progress, and the file it sends."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from apps.chargers.models import ChargePoint, ProtocolVersion
from apps.core.timefmt import iso_utc
from apps.diagnostics.models import LogRequest, LogStatusEvent
from apps.diagnostics.services.common import UploadRefused, create_with_request_id
from apps.tenants.selectors import current_organization

# A station may retry an upload for a while (GetLog retries x retryInterval, or its own
# policy when absent); after this the URL stops working.
DEFAULT_UPLOAD_TTL = timedelta(days=2)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def upload_max_bytes() -> int:
    return int(getattr(settings, "DIAGNOSTICS_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_base_url() -> str:
    """https://<organisation's primary domain>[:port]/diagnostics/upload/ -- the organisation's
    own domain, so a station needs no other host name in its firewall rules or TLS trust."""

    org = current_organization()
    domain = org.primary_domain.domain if org is not None and org.primary_domain else settings.BASE_DOMAIN
    base = getattr(settings, "DIAGNOSTICS_UPLOAD_BASE_URL", "")
    if base:  # e.g. a dedicated upload host in front of the same application
        return base.rstrip("/") + "/diagnostics/upload/"
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{domain}{port}/diagnostics/upload/"


def log_request_create(
    *,
    charge_point: ChargePoint,
    log_type: str,
    oldest: datetime | None = None,
    latest: datetime | None = None,
    user=None,
) -> LogRequest:
    """A new upload target for one log. For a 1.6 charger the type is always GetDiagnostics."""
    if charge_point.protocol_version == ProtocolVersion.OCPP16:
        log_type = LogRequest.LogType.DIAGNOSTICS_16
    elif log_type not in (LogRequest.LogType.DIAGNOSTICS, LogRequest.LogType.SECURITY):
        raise ValueError(f"Unknown log type {log_type!r}.")
    if oldest and latest and oldest > latest:
        raise ValueError("The time window ends before it starts.")
    token = secrets.token_urlsafe(32)
    ttl = getattr(settings, "DIAGNOSTICS_UPLOAD_TTL", DEFAULT_UPLOAD_TTL)
    fields = {
        "charge_point": charge_point,
        "log_type": log_type,
        "token": token,
        "remote_location": upload_base_url() + token + "/",
        "oldest_timestamp": oldest,
        "latest_timestamp": latest,
        "requested_by": user if user is not None and user.is_authenticated else None,
        "expires_at": timezone.now() + ttl,
    }
    if log_type == LogRequest.LogType.DIAGNOSTICS_16:
        return LogRequest.objects.create(**fields)
    return create_with_request_id(
        LogRequest.objects.filter(charge_point=charge_point),
        lambda request_id: LogRequest.objects.create(request_id=request_id, **fields),
    )


def log_request_payload(*, log_request: LogRequest, retries: int | None = None, retry_interval: int | None = None):
    """(action, payload) for the command that asks for this log."""
    extra = {}
    if retries is not None:
        extra["retries"] = retries
    if retry_interval is not None:
        extra["retryInterval"] = retry_interval
    if log_request.log_type == LogRequest.LogType.DIAGNOSTICS_16:
        payload = {"location": log_request.remote_location, **extra}
        if log_request.oldest_timestamp:
            payload["startTime"] = iso_utc(log_request.oldest_timestamp)
        if log_request.latest_timestamp:
            payload["stopTime"] = iso_utc(log_request.latest_timestamp)
        return "GetDiagnostics", payload
    log = {"remoteLocation": log_request.remote_location}
    if log_request.oldest_timestamp:
        log["oldestTimestamp"] = iso_utc(log_request.oldest_timestamp)
    if log_request.latest_timestamp:
        log["latestTimestamp"] = iso_utc(log_request.latest_timestamp)
    return "GetLog", {"logType": log_request.log_type, "requestId": log_request.request_id, "log": log, **extra}


def log_request_answered(
    *,
    charge_point_id: int,
    answer: str,
    filename: str = "",
    request_id: int | None = None,
    log_request_id: int | None = None,
) -> None:
    """The station's answer to GetLog/GetDiagnostics (or offline/timeout/error). Called by
    the session (any GetLog, whoever sent it) and by the page (which also sees failures)."""
    qs = LogRequest.objects.filter(charge_point_id=charge_point_id)
    qs = qs.filter(pk=log_request_id) if log_request_id is not None else qs.filter(request_id=request_id)
    changes = {"answer": answer[:30]}
    if filename:
        changes["station_filename"] = filename[:255]
    qs.update(**changes)


@transaction.atomic
def log_status_record(
    *, charge_point_id: int, status: str, request_id: int | None = None, info: str = ""
) -> LogStatusEvent:
    """One LogStatusNotification: the request's timeline and its latest status."""
    now = timezone.now()
    log_request = None
    if request_id is not None:
        log_request = (
            LogRequest.objects.select_for_update()
            .filter(charge_point_id=charge_point_id, request_id=request_id)
            .first()
        )
    event = LogStatusEvent.objects.create(
        charge_point_id=charge_point_id,
        log_request=log_request,
        request_id=request_id,
        status=status,
        info=info[:600],
        received_at=now,
    )
    if log_request is not None:
        LogRequest.objects.filter(pk=log_request.pk).update(status=status, status_at=now)
    return event


def _safe_name(value: str) -> str:
    """A name a station chose, made safe for a path ("" when nothing usable is left)."""
    try:
        return get_valid_filename(value.rsplit("/", 1)[-1]) if value else ""
    except SuspiciousFileOperation:
        return ""


def log_upload_check(*, token: str) -> None:
    """Refuse an upload before its body is read (unknown, expired or used address)."""
    row = LogRequest.objects.filter(token=token).values("expires_at", "uploaded_at").first()
    if row is None or row["expires_at"] <= timezone.now():
        raise UploadRefused(404, "Unknown or expired upload address.")
    if row["uploaded_at"] is not None:
        raise UploadRefused(410, "This upload address has been used.")


@transaction.atomic
def log_upload_store(*, token: str, content: File, filename: str = "", content_type: str = "") -> LogRequest:
    """Keep the file a station uploaded to its one-time URL. Raises UploadRefused."""
    log_request = LogRequest.objects.select_for_update().select_related("charge_point").filter(token=token).first()
    if log_request is None or log_request.expires_at <= timezone.now():
        raise UploadRefused(404, "Unknown or expired upload address.")
    if log_request.uploaded_at is not None:
        # One file per request: a second upload is a replay (or a leaked URL), never an overwrite.
        raise UploadRefused(410, "This upload address has been used.")
    if content.size > upload_max_bytes():
        raise UploadRefused(413, "The file is too large.")
    cp = log_request.charge_point
    kind = "diagnostics" if log_request.log_type != LogRequest.LogType.SECURITY else "security"
    name = _safe_name(filename) or _safe_name(log_request.station_filename)
    name = (name or f"{cp.identity}-{kind}-{log_request.request_id or log_request.pk}.log")[-120:]
    # The default storage is shared by every organisation: the schema keeps them apart.
    path = f"{connection.schema_name}/{_safe_name(cp.identity) or cp.pk}/{log_request.pk}-{name}"
    log_request.file.save(path, content, save=False)
    log_request.file_name = name
    log_request.file_size = content.size
    log_request.content_type = (content_type or "application/octet-stream")[:100]
    log_request.uploaded_at = timezone.now()
    log_request.save(update_fields=["file", "file_name", "file_size", "content_type", "uploaded_at"])
    return log_request
