"""The public log upload target: https://<organisation domain>/diagnostics/upload/<token>/

Stations upload the way their firmware does it: HTTP PUT of the raw file, or a POST
(multipart/form-data with a file field, or the raw file as the body). OCPP 2.0.1 GetLog
says nothing about the method and 1.6 GetDiagnostics lets the charger append its file
name to the location, so `<token>/<file name>` is accepted too. No login and no CSRF:
the one-time token in the path is the credential.
"""

from __future__ import annotations

import re
import tempfile

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from apps.diagnostics.services import UploadRefused, log_upload_check, log_upload_store, upload_max_bytes

CHUNK = 64 * 1024
# Multipart framing around the file: boundaries and part headers.
MULTIPART_SLACK = 16 * 1024


def _filename_from_disposition(value: str) -> str:
    match = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', value or "", re.IGNORECASE)
    return match.group(1) if match else ""


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
def log_upload(request, token: str, filename: str = ""):
    if request.method not in ("PUT", "POST"):
        return HttpResponseNotAllowed(["PUT", "POST"])
    try:
        log_upload_check(token=token)
    except UploadRefused as exc:
        return _text(exc.status, str(exc))
    limit = upload_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Refuse before reading a byte when the station says how much is coming.
    if declared > limit + (MULTIPART_SLACK if request.method == "POST" else 0):
        return _text(413, "The file is too large.")
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        if request.method == "POST" and content_type.startswith("multipart/form-data"):
            upload: UploadedFile | None = request.FILES.get("file") or next(iter(request.FILES.values()), None)
            if upload is None:
                return _text(400, "No file in the form (expected a file field).")
            log_request = log_upload_store(
                token=token,
                content=upload,
                filename=filename or upload.name or "",
                content_type=upload.content_type or "",
            )
        else:
            with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
                size = 0
                while chunk := request.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        return _text(413, "The file is too large.")
                    spool.write(chunk)
                spool.seek(0)
                name = filename or _filename_from_disposition(request.META.get("HTTP_CONTENT_DISPOSITION", ""))
                log_request = log_upload_store(
                    token=token, content=File(spool, name=name or "upload"), filename=name, content_type=content_type
                )
    except UploadRefused as exc:
        return _text(exc.status, str(exc))
    return _text(
        201 if request.method == "PUT" else 200, f"Stored {log_request.file_name} ({log_request.file_size} bytes)."
    )
