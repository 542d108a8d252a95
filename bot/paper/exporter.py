"""Exporting the anonymous responses in exactly the wide format the importer reads, with a codebook.

An export re-imports into an empty database (with the same centre and service codes) and gives the same measures:
ratings come from the packed bytes (NA for not applicable, empty for skipped or not shown), other answers from
the JSON column, the comment as stored (already redacted). Nothing identifies a person, so nothing is left out.
After the wide columns come `open_survey` and `flagged` ("true"/"false"), which the importer reads past; flagged
responses can be left out (`--exclude-flagged`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cells import FORMULA_START, csv_text, xlsx_text
from bot.errors import UserError
from bot.paper.checks import COMMENT, DATE, EXPORT_ONLY, KEY_COLUMNS, wide_columns
from bot.storage.models import Centre, Response, Service
from bot.storage.packing import unpack_ratings
from surveys.instrument import NOT_APPLICABLE, Instrument

FORMATS = ("csv", "xlsx")
CODEBOOK_COLUMNS = ["code", "type", "element", "question_vi", "question_en", "value", "label_vi", "label_en"]
_KEY_TEXTS = {
    "centre": ("Mã trung tâm phục vụ hành chính công (xem `sipas-bot centre list`)",
               "Service centre code (see `sipas-bot centre list`)"),
    "service": ("Mã thủ tục hành chính; để trống nếu không rõ",
                "Service (administrative procedure) code; empty when not known"),
    "submitted_on": ("Ngày trả lời phiếu (YYYY-MM-DD)", "Date the form was answered (YYYY-MM-DD)"),
}
_FLAG_TEXTS = {
    "open_survey": ("Khảo sát mở: phiếu bắt đầu tại quầy, không có lời mời (không dùng khi nhập lại)",
                    "Open survey: started at a counter without an invitation (ignored on import)"),
    "flagged": ("Bị gắn cờ: gửi dồn dập từ cùng một địa chỉ, có thể là gian lận (không dùng khi nhập lại)",
                "Flagged: sent in a burst from one client address, possibly ballot stuffing (ignored on import)"),
}
_FLAG_VALUES = (("true", "Có", "Yes"), ("false", "Không", "No"))
_NA_LABELS = ("Không áp dụng", "Not applicable")
# Packed rating byte -> cell: 0 is not applicable, 1..5 the rating, anything else (255) no answer.
_RATING_CELLS = np.array([NOT_APPLICABLE, 1, 2, 3, 4, 5] + [None] * 250, dtype=object)


def parse_day(text: str | None, option: str) -> dt.date | None:
    """A --from/--to date; a clear UserError instead of click's usage error."""
    if text is None:
        return None
    try:
        if DATE.fullmatch(text.strip()):
            return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise UserError.say("admin.export_bad_day", option=option, text=text)


def plan_output(path: Path, fmt: str | None) -> tuple[str, Path | None]:
    """The format to write (given, or from the file name) and the CSV codebook's path (a missing folder is made
    when the file is written, as `invite --qr-dir` does)."""
    if path.is_dir():
        raise UserError.say("admin.output_is_folder", path=path, example=path / "responses.csv")
    fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    return fmt, (path.with_suffix(".codebook.csv") if fmt == "csv" else None)


def _wide_query(instrument: Instrument, date_from: dt.date | None, date_to: dt.date | None):
    query = (
        select(Centre.code, Service.code, Response.submitted_on, Response.ratings, Response.answers,
               Response.comment, Response.open_survey, Response.flagged)
        .join(Centre, Response.centre_id == Centre.id)
        .outerjoin(Service, Response.service_id == Service.id)
        .where(Response.instrument == instrument.id, Response.instrument_version == instrument.version)
        .order_by(Response.submitted_on, Centre.code, Service.code, Response.id)
    )
    if date_from is not None:
        query = query.where(Response.submitted_on >= date_from)
    if date_to is not None:
        query = query.where(Response.submitted_on <= date_to)
    return query


async def load_wide(session: AsyncSession, instrument: Instrument, date_from: dt.date | None = None,
                    date_to: dt.date | None = None) -> pd.DataFrame:
    """The stored responses to this instrument version as the wide table (cells: int, str, date or None)."""
    rows = (await session.execute(_wide_query(instrument, date_from, date_to))).all()
    return _wide_frame(rows, instrument)


async def iter_wide(session: AsyncSession, instrument: Instrument, date_from: dt.date | None = None,
                    date_to: dt.date | None = None, rows_per_part: int = 5000) -> AsyncIterator[pd.DataFrame]:
    """`load_wide`'s table in parts of at most ``rows_per_part`` rows, in the same order, read as they are sent
    (the HTTP export streams a million responses without holding them all); at least one part, maybe empty."""
    result = await session.stream(_wide_query(instrument, date_from, date_to))
    sent = False
    async for part in result.partitions(rows_per_part):
        sent = True
        yield _wide_frame(part, instrument)
    if not sent:
        yield _wide_frame([], instrument)


def _wide_frame(rows, instrument: Instrument) -> pd.DataFrame:
    columns = wide_columns(instrument)
    criteria = list(instrument.criteria())
    table: dict[str, object] = {key: [row[i] for row in rows] for i, key in enumerate(KEY_COLUMNS)}
    # Unpacked: 0 is not applicable, NaN no answer; back to byte codes to pick each cell from _RATING_CELLS.
    packed = unpack_ratings((row[3] for row in rows), len(criteria)) if rows else np.empty((0, len(criteria)))
    codes = np.nan_to_num(packed, nan=255).astype(np.uint8)
    answers = [row[4] or {} for row in rows]
    for code in columns[len(KEY_COLUMNS):]:
        if code in criteria:
            table[code] = _RATING_CELLS[codes[:, criteria.index(code)]]
        elif code == COMMENT:
            table[code] = [row[5] for row in rows]
        else:
            table[code] = [answer.get(code) for answer in answers]
    for position, code in enumerate(EXPORT_ONLY, start=6):
        table[code] = ["true" if row[position] else "false" for row in rows]
    return pd.DataFrame(table, columns=[*columns, *EXPORT_ONLY], dtype=object)


def without_flagged(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The wide table without its flagged responses, and how many those were."""
    flagged = (table["flagged"] == "true").to_numpy()
    return table[~flagged].reset_index(drop=True), int(flagged.sum())


def flagged_count(table: pd.DataFrame) -> int:
    """How many responses of the wide table are flagged."""
    return int((table["flagged"] == "true").sum())


def codebook(instrument: Instrument) -> pd.DataFrame:
    """One row per column of the wide format (keys, questions, comment) and one per option, NA included."""
    rows = [[code, "key", "", *_KEY_TEXTS[code], "", "", ""] for code in KEY_COLUMNS]
    for code in wide_columns(instrument)[len(KEY_COLUMNS):]:
        question = instrument.question(code)
        head = [code, question.type, question.element or ""]
        rows.append([*head, question.text.get("vi"), question.text.get("en"), "", "", ""])
        rows += [[*head, "", "", option.value, option.label.get("vi"), option.label.get("en")]
                 for option in question.options]
        if question.allow_na:
            rows.append([*head, "", "", NOT_APPLICABLE, *_NA_LABELS])
    for code in EXPORT_ONLY:
        rows.append([code, "flag", "", *_FLAG_TEXTS[code], "", "", ""])
        rows += [[code, "flag", "", "", "", *labels] for labels in _FLAG_VALUES]
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS, dtype=object)


def write_export(table: pd.DataFrame, book: pd.DataFrame, path: Path, fmt: str, codebook_path: Path | None) -> None:
    """Write each file beside its final name, then move it in place, so a failure leaves no half-written file."""
    moves = [(path.with_name(f".{path.name}.partial"), path)]
    if codebook_path is not None:
        moves.append((codebook_path.with_name(f".{codebook_path.name}.partial"), codebook_path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            _write_csv(table, moves[0][0])
            _write_csv(book, moves[1][0])
        else:
            _write_xlsx(table, book, moves[0][0])
        for temporary, final in moves:
            os.replace(temporary, final)
    except OSError as error:
        raise UserError.say("admin.cannot_write", path=path, reason=error.strerror or error) from error
    finally:
        for temporary, _ in moves:
            with contextlib.suppress(OSError):  # nothing to remove where the folder could not be made
                temporary.unlink(missing_ok=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # The BOM makes Excel read the file as UTF-8, so Vietnamese text survives; the importer accepts it.
    path.write_text(csv_part(frame), encoding="utf-8-sig", newline="")


def csv_part(frame: pd.DataFrame, header: bool = True) -> str:
    """``frame`` as CSV text, formulas guarded: a whole file, or (``header=False``) the next part of one."""
    return _guard_formulas(frame).to_csv(index=False, header=header, lineterminator="\n")


def _guard_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Every text that Excel would run as a formula gets an apostrophe (see bot.cells; dropped on import)."""
    # Column by column as objects: DataFrame.map would turn a column of whole numbers and gaps into floats.
    # Texts only (most cells are ratings): a call per cell was a fifth of an export's time.
    return pd.DataFrame({column: [csv_text(value) if type(value) is str else value for value in table[column]]
                         for column in table.columns}, columns=table.columns, dtype=object)


def _write_xlsx(table: pd.DataFrame, book: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    for title, frame in (("responses", table), ("codebook", book)):
        sheet = workbook.create_sheet(title)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False, name=None):
            cells = []
            for value in row:
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters are not allowed in XLSX
                    if value.startswith(FORMULA_START):  # always text, never a formula
                        value = WriteOnlyCell(sheet, value)
                        xlsx_text(value)
                cells.append(value)
            sheet.append(cells)
    workbook.save(path)
