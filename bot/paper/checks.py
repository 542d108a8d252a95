"""Checking a paper-form table against an instrument and the directory, without touching the database.

Every check works on a column's distinct values (a rating column has a handful, a date column a few hundred) and
broadcasts the verdict back to the rows with numpy, so 100,000 rows cost a few hundred Python calls per column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bot.errors import UserError
from surveys.instrument import NOT_APPLICABLE, AnswerValue, Instrument, Question
from surveys.textmatch import normalize_text

KEY_COLUMNS = ("centre", "service", "submitted_on")
REQUIRED_COLUMNS = ("centre", "submitted_on")
# Written by `export responses` after the wide columns, so an export still imports: read and left aside (an imported
# response is a paper form, not an open survey, and nothing on paper is flagged).
EXPORT_ONLY = ("open_survey", "flagged")
COMMENT = "comment"
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A date cell formatted as a number ("General") shows Excel's serial day: 45413 is 2024-05-01. Five digits cover
# 1927-05-18 to 2173-10-14; a time of day after the point is ignored.
EXCEL_SERIAL = re.compile(r"([0-9]{5})(\.[0-9]+)?")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of the 1900 date system, past Excel's phantom 1900-02-29
_RATINGS = {str(value): value for value in range(1, 6)}

Parsed = tuple[object, UserError | None]  # (value, why it is wrong or None); the reason renders in any language


def reason(name: str, /, **values: object) -> UserError:
    """Why a cell is wrong: a text of the admin catalogue ("admin.row_...")."""
    return UserError.say(f"admin.row_{name}", **values)


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    reason: UserError

    def text(self, language: str) -> str:
        """One line: the row as the spreadsheet shows it, the column, the value (shortened) and the reason."""
        from bot.texts import say

        shown = self.value if len(self.value) <= 40 else self.value[:39] + "…"
        return say("admin.row_problem", language, row=self.row, column=self.column, value=shown,
                   reason=self.reason.text(language))

    def __str__(self) -> str:
        return self.text("en")


@dataclass
class Checked:
    """The good rows, ready for `build_response`, and what was wrong with the others."""

    total: int  # non-blank rows
    centre_ids: list[int]
    service_ids: list[int | None]
    dates: list[dt.date]
    answers: list[dict[str, AnswerValue]]
    problems: list[Problem]
    bad_rows: int
    row_numbers: list[int]  # of the good rows, as the spreadsheet shows them
    warnings: list[Problem]  # imported, but not exactly as written (a comment cut to the limit)


def wide_columns(instrument: Instrument) -> list[str]:
    """The columns of the wide format, in order: keys, every non-text question (all sections), the comment."""
    codes = [q.code for s in instrument.sections for q in s.questions if q.type != "text"]
    has_comment = any(q.code == COMMENT and q.type == "text" for s in instrument.sections for q in s.questions)
    return [*KEY_COLUMNS, *codes, *([COMMENT] if has_comment else [])]


def check_table(table: pd.DataFrame, instrument: Instrument, centres: Mapping[str, int],
                services: Mapping[str, int], today: dt.date, name: str, truncate: bool = False) -> Checked:
    """Check every row; raise UserError for a problem of the whole file (the header, no rows).

    A comment longer than the instrument allows is a problem of its row, or with ``truncate`` cut to the limit
    and a warning."""
    table = _check_header(table, instrument, name)
    table = table[(table != "").any(axis=1).to_numpy()]  # blank rows (often left at the end) are not responses
    if table.empty:
        raise UserError.say("admin.file_no_rows", file=name)
    parsers: dict[str, Callable[[str], Parsed]] = {
        "centre": lambda text: _lookup(text, centres, "centre"),
        "service": lambda text: (None, None) if not text else _lookup(text, services, "service"),
        "submitted_on": lambda text: _date(text, today),
    }
    values, bad = {}, np.zeros(len(table), dtype=bool)
    problems: list[tuple[int, int, Problem]] = []
    cut: list[tuple[int, Problem]] = []
    rows = table.index.to_numpy()
    for position, column in enumerate(table.columns):
        if column in parsers:
            parse = parsers[column]
        elif column == COMMENT:
            parse = _comment_parser(instrument.question(COMMENT), truncate)
        else:
            parse = _answer_parser(instrument.question(column))
        texts = table[column].to_numpy(dtype=object)
        values[column], reasons, wrong = _parse_distinct(texts, parse)
        bad |= wrong
        if column == COMMENT and truncate:
            cut = _cut_comments(texts, rows, instrument.question(COMMENT).max_length)
        problems += [(rows[i], position, Problem(int(rows[i]), column, texts[i], reasons[i]))
                     for i in np.flatnonzero(wrong)]
    problems.sort(key=lambda item: item[:2])
    good = ~bad
    answer_codes = [c for c in table.columns if c not in KEY_COLUMNS]
    answer_columns = [values[c][good] for c in answer_codes]
    return Checked(
        total=len(table),
        centre_ids=values["centre"][good].tolist(),
        service_ids=values["service"][good].tolist() if "service" in values else [None] * int(good.sum()),
        dates=values["submitted_on"][good].tolist(),
        answers=[dict(zip(answer_codes, row, strict=True)) for row in zip(*answer_columns, strict=True)]
        if answer_codes else [{} for _ in range(int(good.sum()))],
        problems=[problem for *_, problem in problems],
        bad_rows=int(bad.sum()),
        row_numbers=[int(row) for row in rows[good]],
        warnings=[warning for i, warning in cut if good[i]],
    )


class Refused(UserError):
    """Nothing was imported: a first line, then one line per problem, each in the admin's language."""

    def __init__(self, head: str, values: dict, lines: Callable[[str], list[str]], status: int = 400) -> None:
        self.head, self.head_values, self.lines, self.status = head, values, lines, status
        super().__init__(self.text("en"))

    def text(self, language: str) -> str:
        return "\n  ".join([UserError.say(self.head, **self.head_values).text(language), *self.lines(language)])


def _check_header(table: pd.DataFrame, instrument: Instrument, name: str) -> pd.DataFrame:
    allowed = wide_columns(instrument)
    found: list[UserError] = []
    for position, column in enumerate(table.columns):
        if column == "" and (table.iloc[:, position] != "").any():
            found.append(UserError.say("admin.header_unnamed", position=position + 1))
    table = table.loc[:, [column != "" for column in table.columns]]
    seen: set[str] = set()
    for column in table.columns:
        if column in seen:
            found.append(UserError.say("admin.header_twice", column=column))
        seen.add(column)
    unknown = [column for column in dict.fromkeys(table.columns) if column not in allowed and column not in EXPORT_ONLY]
    if unknown:
        found.append(UserError.say("admin.header_unknown_many" if len(unknown) > 1 else "admin.header_unknown",
                                   listed=", ".join(f'"{column}"' for column in unknown), survey=instrument.id,
                                   allowed=", ".join(allowed)))
    found += [UserError.say("admin.header_missing", column=column) for column in REQUIRED_COLUMNS
              if column not in seen]
    if found:
        raise Refused("admin.header_head", {"file": name}, lambda language: [e.text(language) for e in found])
    return table.drop(columns=[column for column in EXPORT_ONLY if column in seen])


def _parse_distinct(texts: np.ndarray, parse: Callable[[str], Parsed]) -> tuple[np.ndarray, np.ndarray,
                                                                                 np.ndarray]:
    """Parse each distinct text once; per row: the value, the reason it is wrong (or None), and a wrong mask."""
    labels, uniques = pd.factorize(texts)
    parsed = [parse(text) for text in uniques]
    values = np.empty(len(parsed), dtype=object)
    reasons = np.empty(len(parsed), dtype=object)
    for i, (value, reason) in enumerate(parsed):
        values[i], reasons[i] = value, reason
    wrong = np.array([reason is not None for reason in reasons], dtype=bool)
    return values[labels], reasons[labels], wrong[labels]


def _lookup(text: str, codes: Mapping[str, int], what: str) -> Parsed:
    if not text:
        return None, reason(f"{what}_required")
    found = codes.get(unicodedata.normalize("NFC", text).strip().upper())
    return (found, None) if found is not None else (None, reason(f"no_{what}"))


def _date(text: str, today: dt.date) -> Parsed:
    if not text:
        return None, reason("date_required")
    serial = EXCEL_SERIAL.fullmatch(text)
    try:
        day = dt.date.fromisoformat(text) if DATE.fullmatch(text) else None
    except ValueError:
        return None, reason("no_such_date")
    if serial:
        day = EXCEL_EPOCH + dt.timedelta(days=int(serial.group(1)))
    if day is None:
        return None, reason("date_form")
    if day > today:
        return None, reason("future")
    return day, None


def _answer_parser(question: Question) -> Callable[[str], Parsed]:
    na = "_or_na" if question.allow_na else ""
    if question.type == "rating":
        wrong = reason(f"rating{na}")
        options: dict[str, AnswerValue] = _RATINGS
    else:
        options = {str(value).lower(): value for value in question.option_values()}
        wrong = reason(f"option{na}", options=", ".join(str(v) for v in question.option_values()))

    def parse(text: str) -> Parsed:
        if not text:
            return None, None  # skipped
        if text.upper() == NOT_APPLICABLE:
            if question.allow_na:
                return NOT_APPLICABLE, None
            return None, reason("na_not_allowed")
        key = text.lower()
        return (options[key], None) if key in options else (None, wrong)

    return parse


def _comment_parser(question: Question, truncate: bool) -> Callable[[str], Parsed]:
    limit = question.max_length

    def parse(text: str) -> Parsed:
        cleaned = normalize_text(text)
        if limit and len(cleaned) > limit:
            if not truncate:
                return None, reason("comment_long", length=UserError.count(len(cleaned)),
                                                limit=UserError.count(limit))
            cleaned = cleaned[:limit].rstrip()
        return cleaned or None, None

    return parse


def _cut_comments(texts: np.ndarray, rows: np.ndarray, limit: int | None) -> list[tuple[int, Problem]]:
    """A warning for each comment that --truncate cuts (a handful of rows, so a plain loop)."""
    if not limit:
        return []
    cut = []
    for i, text in enumerate(texts):
        length = len(normalize_text(text))
        if length > limit:
            why = reason("comment_cut", length=UserError.count(length), limit=UserError.count(limit))
            cut.append((i, Problem(int(rows[i]), COMMENT, text, why)))
    return cut
