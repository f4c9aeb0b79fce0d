"""CSV exports that a spreadsheet opens as data: text that would start a formula is written as plain text."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Google Sheets
# (OWASP, "CSV Injection"). The prefixed apostrophe makes the spreadsheet show the text as it was typed.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def as_text(value: object) -> object:
    """Return the cell's value, text that a spreadsheet would run as a formula prefixed with an apostrophe.

    Numbers stay numbers (a negative score is data, not a formula); only text is neutralized.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer's writerow and writerows, with every cell passed through as_text."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([as_text(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: _Writable) -> SafeWriter:
    """Return the writer every CSV export uses."""
    return SafeWriter(out)
