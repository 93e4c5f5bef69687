"""Spreadsheet-safe exports (CSV and XLSX).

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula ("CSV injection": a card label
`=HYPERLINK(...)` typed by a driver runs in the operator's spreadsheet). The OWASP rule is
applied: such a text cell is written with a leading apostrophe, which spreadsheets show as
text and do not evaluate. Numbers, dates and Decimals are written as they are (a negative
amount stays a number)."""

from __future__ import annotations

import csv
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([spreadsheet_safe(v) for v in row])

    def writerows(self, rows):
        return self._writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)


def csv_writer(buffer, **kwargs) -> _SafeWriter:
    """csv.writer(buffer) whose text cells cannot be read as formulas."""
    return _SafeWriter(csv.writer(buffer, **kwargs))


class SpreadsheetSafeExportMixin:
    """For django-import-export resources: every exported text cell follows the rule above,
    whichever page or admin action exports it."""

    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))
