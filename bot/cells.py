"""Text in the spreadsheets we write: a name or comment that starts like a formula stays text.

Excel runs a cell that starts with = + - or @ as a formula, in a CSV file as in a workbook, so a service called
"=HYPERLINK(...)" would become a live link in every report; a leading tab or carriage return hides such a start
from some readers and not from others (OWASP's CSV injection list), so it is guarded too. Only texts: a number,
negative ones included (a change of -1.2), stays a number. Every CSV and XLSX file sipas-bot writes goes
through here: `csv_text` prefixes such a text (and one that starts with an apostrophe, so that it survives the way
back) with an apostrophe, which Excel shows as text and `csv_untext` removes on import; `xlsx_text` marks a
workbook cell as text (with Excel's own quote prefix), which keeps the text exactly as it is.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # what a spreadsheet would run as a formula
_GUARDED = (*FORMULA_START, "'")


def csv_text(value: object) -> object:
    """A value for a CSV cell: a text that Excel would run, or that starts with an apostrophe, gets one more; a
    carriage return becomes a line feed (our CSV lines end in \n, so the writers would leave a lone \r unquoted,
    and a reader would start a new row there: "x\r=HYPERLINK(...)" would be a formula again)."""
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if value.startswith(_GUARDED) else value


def csv_untext(text: str) -> str:
    """A CSV cell as it was before `csv_text`: "'=x" is "=x", "''x" is "'x"; anything else is unchanged."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1:2] in _GUARDED else text


def xlsx_text(cell) -> None:
    """Make an openpyxl cell holding text a text cell, never a formula (openpyxl reads "=..." as one)."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited
