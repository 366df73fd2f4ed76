"""CSV that people open in a spreadsheet: every text cell is neutralised against formula injection.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, WPS and
LibreOffice as a formula (`=HYPERLINK(...)`, `=1+1`, DDE). Such a text cell gets a leading `'`, the
prefix OWASP recommends: the spreadsheet shows the text, and nothing runs. Numbers (`-3`) stay numbers.
Every CSV the service writes goes through `writer()` or `render()`.
"""
import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so spreadsheet programs read the file as UTF-8 and show the Chinese


def cell(value):
    """The value to write: text that a spreadsheet would take for a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer's writerow/writerows with every cell passed through `cell()`."""

    def __init__(self, out, **options):
        options.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **options) -> SafeWriter:
    return SafeWriter(out, **options)


def render(header: Iterable, rows: Iterable[Iterable], *, bom: bool = False) -> str:
    """A whole CSV document as text (CRLF line ends; with a UTF-8 BOM if `bom`)."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    w = writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()
