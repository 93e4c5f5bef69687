"""Bulk import and export pages, the same for chargers, locations and cards: upload, a
row-by-row dry-run preview, confirm; export as CSV or XLSX. The resources live with their
data (apps/chargers/resources.py, apps/charging/resources.py), the run in apps/core/imports.py."""

import base64
import secrets

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from apps.chargers import services
from apps.chargers.resources import ChargePointResource, LocationResource
from apps.charging.resources import IdTokenResource
from apps.core import imports
from apps.core.crypto import DecryptionError, decrypt_json, encrypt_json

MAX_UPLOAD = 5 * 1024 * 1024
# How long a previewed file waits for its confirmation. It may hold charger passwords: it
# waits encrypted in the cache (Redis), never in the session store (which keeps a session for
# two weeks), and is dropped when confirmed, replaced or expired.
PREVIEW_SECONDS = 30 * 60


RESOURCES = {"cards": IdTokenResource, "locations": LocationResource, "chargers": ChargePointResource}


IMPORTS = {
    "chargers": {
        "title": "chargers",
        "columns": "identity, name, location, security_profile, password, vendor, model, connectors",
        "list_url": "portal:charger_list",
        "export_url": "portal:charger_export",
        "policy": "chargers.change",
    },
    "cards": {
        "title": "RFID cards",
        "columns": "id_token, type, status, label, group_id, expires_at, owner_email",
        "list_url": "portal:idtoken_list",
        "export_url": "portal:idtoken_export",
        "policy": "idtokens.change",
    },
    "locations": {
        "title": "locations",
        "columns": ", ".join(("id", *services.LOCATION_FIELDS)),
        "list_url": "portal:location_list",
        "export_url": "portal:location_export",
        "policy": "locations.change",
    },
}


def import_page(request, kind: str):
    """Upload → dry-run preview with a per-row report → confirm, as for RFID cards. The
    file waits (encrypted, PREVIEW_SECONDS, one slot per kind and session) so the confirmed
    data is exactly what was previewed."""
    spec = IMPORTS[kind]
    session_key = f"import_file_{kind}"
    report, error = None, None
    if request.method == "POST":
        content = filename = None
        if "confirm" in request.POST:
            stored = _preview_load(request, session_key)
            if stored is None:
                error = "The previewed file has expired; upload it again."
            else:
                content, filename = stored
        else:
            upload = request.FILES.get("file")
            if upload is None:
                error = "Choose a CSV or XLSX file."
            elif upload.size > MAX_UPLOAD:
                error = "The file is larger than 5 MB."
            else:
                content, filename = upload.read(), upload.name
                _preview_store(request, session_key, content, filename)
        if error is None:
            try:
                dataset = imports.dataset_load(content=content, filename=filename)
                report = imports.import_run(
                    resource_class=RESOURCES[kind], dataset=dataset, dry_run="confirm" not in request.POST
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                _mask_passwords(report)
                if report.applied:
                    _preview_drop(request, session_key)
                    messages.success(
                        request,
                        f"Imported {report.count('new')} new and updated {report.count('update')} {spec['title']}.",
                    )
                    return redirect(spec["list_url"])
    return render(request, "portal/imports/import.html", {"report": report, "error": error, "kind": kind, "spec": spec})


def _preview_store(request, session_key: str, content: bytes, filename: str) -> None:
    _preview_drop(request, session_key)
    token = secrets.token_urlsafe(24)
    data = {"content": base64.b64encode(content).decode(), "name": filename}
    cache.set(f"import-preview:{token}", encrypt_json(data), PREVIEW_SECONDS)
    request.session[session_key] = token  # only the key to it


def _preview_load(request, session_key: str) -> tuple[bytes, str] | None:
    token = request.session.get(session_key)
    stored = cache.get(f"import-preview:{token}") if isinstance(token, str) else None
    if stored is None:
        return None
    try:
        data = decrypt_json(stored)
    except DecryptionError:  # SECRET_KEY rotated since the preview
        return None
    return base64.b64decode(data["content"]), data["name"]


def _preview_drop(request, session_key: str) -> None:
    token = request.session.pop(session_key, None)
    if isinstance(token, str):
        cache.delete(f"import-preview:{token}")


def _mask_passwords(report) -> None:
    # The preview page must not echo charger passwords back (screens get shared).
    if "password" in report.headers:
        column = report.headers.index("password")
        for row in report.rows:
            if column < len(row.values) and row.values[column] not in (None, ""):
                row.values[column] = "••••"


def export_response(kind: str, queryset, fmt: str, filename: str) -> HttpResponse:
    dataset = RESOURCES[kind]().export(queryset)
    if fmt == "xlsx":
        body, content_type = dataset.export("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        body, content_type = dataset.export("csv"), "text/csv; charset=utf-8"
    else:
        return HttpResponse("Export as csv or xlsx.", status=404)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
