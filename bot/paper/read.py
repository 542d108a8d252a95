"""Reading a paper-form file (CSV or XLSX) into a table of cell texts, before any checking.

The result is a DataFrame of stripped strings ("" for an empty cell) whose column names are the header row
(stripped, lower case) and whose index is the row number as a spreadsheet shows it (the header is row 1).
The file type is decided by the content, not the name, because people rename files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable

import numpy as np
import pandas as pd

from bot.cells import csv_untext
from bot.errors import UserError

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) format
SAVE_AS = UserError.term("admin.file_save_as")  # how to save a file that can be read


def read_table(data: bytes, name: str) -> pd.DataFrame:
    """The cells of a CSV or XLSX file; a file that is empty or of another kind raises UserError."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UserError.say("admin.file_empty", file=name)
    if data.startswith(ZIP_MAGIC):
        table = _read_xlsx(data, name)
    elif data.startswith(OLE_MAGIC):
        raise UserError.say("admin.file_xls", file=name, save_as=SAVE_AS)
    else:
        table = _read_csv(data, name)
    if table.shape[0] == 0 or not (table != "").to_numpy().any():
        raise UserError.say("admin.file_empty", file=name)
    header = [unicodedata.normalize("NFC", cell).strip().lower() for cell in table.iloc[0]]
    table = table.iloc[1:]
    table.columns = header
    table.index = pd.RangeIndex(2, len(table) + 2)
    return table


def _read_csv(data: bytes, name: str) -> pd.DataFrame:
    if b"\x00" in data[:4096]:
        raise UserError.say("admin.file_not_text", file=name, save_as=SAVE_AS)
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise UserError.say("admin.file_not_utf8", file=name, row=row, save_as=SAVE_AS) from error
    separator = _separator(text)
    try:
        # Everything as text and no NA guessing: "NA" is an answer here, and "" means skipped.
        table = pd.read_csv(io.StringIO(text), sep=separator, header=None, dtype=str, na_filter=False,
                            skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, engine="c")
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            width, row, seen = found.groups()
            raise UserError.say("admin.file_row_width", file=name, row=row, seen=seen, width=width,
                                separator=separator) from error
        raise UserError.say("admin.file_bad_csv", file=name, error=error) from error
    except pd.errors.EmptyDataError as error:
        raise UserError.say("admin.file_empty", file=name) from error
    # A CSV cell written by our exporter as "'=x" (so that Excel shows it as text) is "=x" again.
    return pd.DataFrame({j: _texts(table[j].to_numpy(dtype=object), csv_untext) for j in table.columns})


def _separator(text: str) -> str:
    """Comma, or the semicolon or tab that Excel writes in locales (Vietnamese among them) using a decimal comma."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _read_xlsx(data: bytes, name: str) -> pd.DataFrame:
    import openpyxl  # slow to import; only XLSX files need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UserError.say("admin.file_bad_zip", file=name, save_as=SAVE_AS) from error
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True)) if book.worksheets else []
    finally:
        book.close()
    width = max((len(row) for row in rows), default=0)
    if not rows or width == 0:
        return pd.DataFrame()
    cells = np.full((len(rows), width), None, dtype=object)
    for position, row in enumerate(rows):
        cells[position, : len(row)] = row
    return pd.DataFrame({j: _texts(cells[:, j]) for j in range(width)})


def _texts(column: np.ndarray, then: Callable[[str], str] = str) -> np.ndarray:
    """Each cell as stripped text, converting each distinct value once (a rating column holds a handful)."""
    labels, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = np.array([then(_cell_text(value)) for value in uniques] + [""], dtype=object)
    return texts[labels]  # label -1 (an empty cell) picks the "" at the end


def _cell_text(value: object) -> str:
    """A cell as the text a person would type: 4.0 is "4", a date cell is YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()
