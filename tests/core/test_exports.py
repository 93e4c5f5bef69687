"""The spreadsheet-safe rule of apps.core.exports (OWASP "CSV injection")."""

import io
from decimal import Decimal

from apps.core.exports import csv_writer, spreadsheet_safe


def test_text_cells_that_a_spreadsheet_would_evaluate_get_an_apostrophe():
    for text in ("=1+1", "+49 30 1234", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(text) == "'" + text
    for value in ("plain", "a=b", "", Decimal("-1.50"), -3, None):
        assert spreadsheet_safe(value) == value  # numbers stay numbers, negative ones too


def test_the_csv_writer_applies_it_to_every_cell():
    out = io.StringIO()
    csv_writer(out).writerow(["=cmd|' /C calc'!A0", Decimal("-2.00"), "ok"])
    assert out.getvalue() == "'=cmd|' /C calc'!A0,-2.00,ok\r\n"
