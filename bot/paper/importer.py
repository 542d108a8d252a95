"""Importing paper survey forms typed into a spreadsheet (the wide format; README "Importing paper forms").

Order of work: refuse a file already imported, read it (`bot.paper.read`), check every row
(`bot.paper.checks`), and only when there is something to import build the rows with `build_response` (so the
ratings are packed and comments redacted exactly as for the chat) and write them with one executemany insert,
together with their `ImportBatch`, in one transaction. The write lock is held only for the inserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from bot.errors import Conflict, UserError
from bot.paper.batches import Repeats, find_repeats, numbers
from bot.paper.checks import Checked, Problem, Refused, check_table
from bot.paper.read import read_table
from bot.services import Services
from bot.storage.models import Centre, ImportBatch, Response, Service
from bot.storage.responses import response_values
from surveys.instrument import Instrument

CHANNEL = "paper"
PROGRESS_ABOVE = 5_000  # rows; smaller files import in the blink of an eye
MAX_LISTED = 100  # problems printed; the rest are counted
_COLUMNS = [column.key for column in Response.__table__.columns]


@dataclass
class ImportResult:
    imported: int
    skipped: int
    problems: list[Problem]
    warnings: list[Problem]
    batch_id: int


def problem_lines(problems: list[Problem], language: str = "en") -> list[str]:
    """The problems as printable lines, the first MAX_LISTED of them and a count of the rest."""
    lines = [problem.text(language) for problem in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        rest = UserError.count(len(problems) - MAX_LISTED)
        lines.append(UserError.say("admin.row_more", count=rest).text(language))
    return lines


async def import_file(services: Services, path: Path, instrument: Instrument, *, skip_invalid: bool,
                      truncate: bool = False, allow_duplicates: bool = False, progress: bool = False) -> ImportResult:
    """Import the responses of one file; nothing is written unless every row is good or ``skip_invalid``, and
    nothing when rows repeat rows of an earlier batch, unless ``allow_duplicates``."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    async with services.db.reading() as session:
        await _refuse_duplicate(session, digest, services.settings.timezone)
        centres = dict((await session.execute(select(Centre.code, Centre.id))).all())
        service_ids = dict((await session.execute(select(Service.code, Service.id))).all())
    checked = check_table(read_table(data, path.name), instrument, centres, service_ids,
                          services.local_date(dt.datetime.now(dt.UTC)), path.name, truncate)
    good = checked.total - checked.bad_rows
    if checked.problems and (not skip_invalid or good == 0):
        raise _refusal(checked)
    show = progress and checked.total > PROGRESS_ABOVE
    with tqdm(total=good, unit=" rows", desc="preparing", disable=not show) as bar:
        rows = _build_rows(instrument, checked, bar)
        if not allow_duplicates:
            async with services.db.reading() as session:
                repeats = await find_repeats(session, instrument, rows, checked.row_numbers)
            if repeats.count:
                raise _repeated(repeats, len(rows), services.settings.timezone)
        bar.set_description("writing")
        async with services.db.transaction() as session:
            batch = ImportBatch(content_hash=digest, filename=path.name[-300:], instrument=instrument.id,
                                rows=len(rows))
            session.add(batch)
            try:
                await session.flush()
            except IntegrityError:  # imported by someone else since the check above
                raise Conflict.say("admin.file_just_imported", file=path.name) from None
            for row in rows:
                row["import_batch_id"] = batch.id
            # The table, not the ORM entity: ORM bulk inserts split the rows into small batches wherever the
            # pattern of NULLs changes; a Core executemany sends them all at once.
            # In key order: the responses table is stored by its random key (WITHOUT ROWID on SQLite), and
            # inserts in key order append to the tree instead of splitting pages all over it. The keys are random,
            # so this order says nothing about the forms.
            await session.execute(insert(Response.__table__), sorted(rows, key=lambda row: row["id"]))
    return ImportResult(len(rows), checked.bad_rows, checked.problems, checked.warnings, batch.id)


async def _refuse_duplicate(session: AsyncSession, digest: str, timezone: str) -> None:
    earlier = await session.scalar(select(ImportBatch).where(ImportBatch.content_hash == digest))
    if earlier is not None:
        when = imported_when(earlier.imported_at, timezone)
        raise Conflict.say("admin.file_imported_before", when=when, rows=earlier.rows, survey=earlier.instrument,
                           file=earlier.filename)


def imported_when(moment: dt.datetime, timezone: str) -> str:
    """When a batch was imported, in the centres' time zone (SQLite gives the stored UTC time back naive)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZoneInfo(timezone)).strftime(f"%Y-%m-%d %H:%M ({timezone})")


def _repeated(repeats: Repeats, total: int, timezone: str) -> Refused:
    from bot.texts import say

    first = min(repeats.by_batch)

    def lines(language: str) -> list[str]:
        found = [say("admin.repeat_batch", language, rows=numbers(rows), id=batch_id,
                     file=repeats.batches[batch_id].filename,
                     when=imported_when(repeats.batches[batch_id].imported_at, timezone))
                 for batch_id, rows in sorted(repeats.by_batch.items())]
        return [*found, say("admin.repeat_advice", language, id=first)]

    counts = {"count": UserError.count(repeats.count), "total": UserError.count(total)}
    return Refused("admin.repeat_head", counts, lines, status=Conflict.status)


def _refusal(checked: Checked) -> Refused:
    bad, total = checked.bad_rows, checked.total
    if bad == total:
        head, values = ("admin.rows_bad_only", {}) if total == 1 else \
            ("admin.rows_bad_all", {"total": UserError.count(total)})
    else:
        head = "admin.rows_bad_some"
        values = {"bad": UserError.count(bad), "total": UserError.count(total), "good": UserError.count(total - bad)}
    return Refused(head, values, lambda language: problem_lines(checked.problems, language))


def _build_rows(instrument: Instrument, checked: Checked, bar: tqdm) -> list[dict]:
    """Plain dicts for one executemany insert, each made by `response_values` like a chat response."""
    rows = []
    keys = zip(checked.centre_ids, checked.service_ids, checked.dates, checked.answers, strict=True)
    for centre_id, service_id, submitted_on, answers in keys:
        values = response_values(instrument, answers, centre_id=centre_id, service_id=service_id,
                                 channel=CHANNEL, submitted_on=submitted_on)
        rows.append({column: values[column] for column in _COLUMNS})
        if len(rows) % 1000 == 0:
            bar.update(1000)
    bar.update(len(rows) % 1000)
    return rows
