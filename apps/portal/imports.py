"""Bulk import and export with django-import-export: resources and one import service
shared by the portal and the admin.

Rule: an import is all or nothing. A dry run shows what would happen row by row;
the real run re-validates and applies only when no row has an error, inside one
transaction, so a bad row never leaves the rest half-applied.
"""

from dataclasses import dataclass, field

import tablib
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from apps.accounts.models import User
from apps.charging.models import IdToken

MAX_ROWS = 20_000


class IdTokenResource(resources.ModelResource):
    owner_email = fields.Field(
        attribute="owner", column_name="owner_email", widget=widgets.ForeignKeyWidget(User, field="email")
    )
    expires_at = fields.Field(attribute="expires_at", column_name="expires_at", widget=widgets.DateTimeWidget())

    class Meta:
        model = IdToken
        fields = ("id_token", "type", "status", "label", "group_id", "expires_at", "owner_email")
        export_order = fields
        import_id_fields = ("id_token",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader, row):
        # idTags are case-insensitive on the wire: "04a1" updates card "04A1".
        value = (row.get("id_token") or "").strip()
        return IdToken.objects.filter(id_token__iexact=value).first() if value else None

    def before_import_row(self, row, **kwargs):
        for key in ("id_token", "type", "status", "owner_email"):
            if row.get(key) is not None:
                row[key] = str(row[key]).strip()
        existing = (
            IdToken.objects.filter(id_token__iexact=row.get("id_token") or "")
            .values_list("id_token", flat=True)
            .first()
        )
        if existing:
            row["id_token"] = existing  # keep the card's stored spelling
        if not row.get("type"):
            row["type"] = IdToken.Type.ISO14443
        if not row.get("status"):
            row["status"] = IdToken.Status.ACCEPTED
        if row.get("owner_email"):
            row["owner_email"] = row["owner_email"].lower()
            if not User.objects.filter(email=row["owner_email"]).exists():
                raise ValidationError({"owner_email": f"No user with e-mail {row['owner_email']}."})


RESOURCES = {"cards": IdTokenResource}


@dataclass
class RowReport:
    number: int
    action: str  # new | update | skip | error | invalid
    values: list
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    headers: list[str]
    rows: list[RowReport]
    applied: bool

    @property
    def ok(self) -> bool:
        return not any(r.errors for r in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def summary(self) -> dict:
        return {a: self.count(a) for a in ("new", "update", "skip")} | {"errors": sum(1 for r in self.rows if r.errors)}


def dataset_load(*, content: bytes, filename: str) -> tablib.Dataset:
    fmt = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
    try:
        data = tablib.Dataset().load(content if fmt == "xlsx" else content.decode("utf-8-sig"), format=fmt)
    except UnicodeDecodeError as exc:
        raise ValidationError("The CSV file is not UTF-8 encoded.") from exc
    except Exception as exc:  # tablib/openpyxl raise many types for broken files
        raise ValidationError(f"The file could not be read as {fmt.upper()}: {exc}") from exc
    if len(data) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS} rows per import; split the file.")
    return data


def import_run(*, kind: str, dataset: tablib.Dataset, dry_run: bool) -> ImportReport:
    resource = RESOURCES[kind]()
    missing = [f for f in resource.get_import_id_fields() if f not in (dataset.headers or [])]
    if missing:
        raise ValidationError(f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(resource._meta.fields)}.")
    # Validation errors must roll everything back too (not only exceptions).
    result = resource.import_data(dataset, dry_run=True, use_transactions=True, rollback_on_validation_errors=True)
    rows = _report_rows(result, dataset)
    applied = False
    if not dry_run and not any(r.errors for r in rows):
        result = resource.import_data(dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True)
        rows = _report_rows(result, dataset)
        applied = not any(r.errors for r in rows)
    return ImportReport(headers=list(dataset.headers or []), rows=rows, applied=applied)


def _report_rows(result, dataset) -> list[RowReport]:
    reports: dict[int, RowReport] = {}
    for number, row in enumerate(dataset, start=1):
        reports[number] = RowReport(number=number, action="new", values=list(row))
    for number, errors in result.row_errors():
        reports[number].action = "error"
        reports[number].errors.extend(str(e.error) for e in errors)
    for invalid in result.invalid_rows:
        report = reports[invalid.number]
        report.action = "invalid"
        for name, messages in invalid.error_dict.items():
            report.errors.extend(f"{name}: {m}" for m in messages)
    for number, row_result in enumerate(result.rows, start=1):
        if reports.get(number) and not reports[number].errors:
            reports[number].action = row_result.import_type
    return list(reports.values())


def export_dataset(*, kind: str, queryset=None) -> tablib.Dataset:
    return RESOURCES[kind]().export(queryset)
