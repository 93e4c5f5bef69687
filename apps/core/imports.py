"""Bulk import runs with django-import-export, whatever the resource: load a CSV/XLSX
file, dry-run it with a row-by-row report, apply it only when no row has an error.

Rule: an import is all or nothing. A dry run shows what would happen row by row;
the real run re-validates and applies only when no row has an error, inside one
transaction, so a bad row never leaves the rest half-applied. The resources live with
the data they import (apps/chargers/resources.py, apps/charging/resources.py).
"""

from dataclasses import dataclass, field

import tablib
from django.core.exceptions import ValidationError

MAX_ROWS = 20_000


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


def import_run(*, resource_class, dataset: tablib.Dataset, dry_run: bool) -> ImportReport:
    resource = resource_class()
    required = getattr(resource, "required_columns", None) or resource.get_import_id_fields()
    missing = [f for f in required if f not in (dataset.headers or [])]
    if missing:
        raise ValidationError(f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(resource._meta.fields)}.")
    # Validation errors must roll everything back too (not only exceptions).
    result = resource.import_data(dataset, dry_run=True, use_transactions=True, rollback_on_validation_errors=True)
    rows = _report_rows(result, dataset)
    _report_duplicates(rows, dataset, resource.get_import_id_fields())
    applied = False
    if not dry_run and not any(r.errors for r in rows):
        result = resource.import_data(dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True)
        rows = _report_rows(result, dataset)
        applied = not any(r.errors for r in rows)
    if applied and hasattr(resource, "after_apply"):
        # E.g. cards are saved without the services: the resource tells local lists once.
        resource.after_apply()
    return ImportReport(headers=list(dataset.headers or []), rows=rows, applied=applied)


def _report_duplicates(rows: list[RowReport], dataset: tablib.Dataset, id_fields) -> None:
    """A key twice in one file (the same charger identity, card or location id) is an error
    on its later rows: otherwise the last row would silently win over the first. Keys compare
    as OCPP's CiString does: trimmed, case-insensitive. Rows without a key (new locations)
    are never duplicates."""
    headers = list(dataset.headers or [])
    columns = [headers.index(f) for f in id_fields if f in headers]
    if not columns:
        return
    first_seen: dict[tuple, int] = {}
    for report, values in zip(rows, dataset, strict=True):
        key = tuple(str(values[c] if values[c] is not None else "").strip().casefold() for c in columns)
        if not any(key):
            continue
        if key in first_seen:
            shown = ", ".join(f"{id_fields[i]} {values[c]!r}" for i, c in enumerate(columns))
            report.action = "error"
            report.errors.append(f"Duplicate of row {first_seen[key]} ({shown}): each may appear once per file.")
        else:
            first_seen[key] = report.number


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
