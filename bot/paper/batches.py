"""Import batches: listing them, undoing one, and finding rows that repeat rows of an earlier batch.

A batch is one imported file (`ImportBatch`); its responses point to it. After `import --skip-invalid`, the
corrected file holds the good rows again: importing it as it is would count those forms twice and make every
interval falsely narrow. So a new file's rows are compared with the paper responses already stored (the same
survey, centres and days), each stored response matching at most one new row: two identical forms in one file
stay two forms.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from bot.storage.models import ImportBatch, Response
from surveys.instrument import Instrument

MAX_ROWS_NAMED = 20  # row numbers listed per earlier batch in a refusal


@dataclass(frozen=True)
class Repeats:
    """The new rows (spreadsheet row numbers) that repeat stored rows, per earlier batch."""

    by_batch: dict[int, list[int]]
    batches: dict[int, ImportBatch]

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.by_batch.values())


def fingerprint(values: dict) -> tuple:
    """What makes two stored paper responses the same form: everything but the random id and the batch."""
    answers = json.dumps(values["answers"] or {}, sort_keys=True, ensure_ascii=False)
    return (values["centre_id"], values["service_id"], values["submitted_on"], bytes(values["ratings"]), answers,
            values["comment"])


async def find_repeats(session: AsyncSession, instrument: Instrument, rows: Sequence[dict],
                       row_numbers: Sequence[int]) -> Repeats:
    """The new rows (plain response values, as inserted) that exactly repeat rows of earlier batches."""
    if not rows:
        return Repeats({}, {})
    days = [row["submitted_on"] for row in rows]
    query = (
        select(Response.import_batch_id, Response.centre_id, Response.service_id, Response.submitted_on,
               Response.ratings, Response.answers, Response.comment)
        .where(Response.import_batch_id.is_not(None), Response.instrument == instrument.id,
               Response.instrument_version == instrument.version, Response.submitted_on >= min(days),
               Response.submitted_on <= max(days),
               Response.centre_id.in_(sorted({row["centre_id"] for row in rows})))
    )
    stored: dict[tuple, list[int]] = defaultdict(list)  # fingerprint -> the batch of each stored copy
    for batch_id, *columns in (await session.execute(query)).all():
        keys = ("centre_id", "service_id", "submitted_on", "ratings", "answers", "comment")
        stored[fingerprint(dict(zip(keys, columns, strict=True)))].append(batch_id)
    by_batch: dict[int, list[int]] = defaultdict(list)
    for row, number in zip(rows, row_numbers, strict=True):
        copies = stored.get(fingerprint(row))
        if copies:
            by_batch[copies.pop()].append(number)
    batches = {b.id: b for b in (await session.scalars(select(ImportBatch).where(
        ImportBatch.id.in_(list(by_batch))))).all()} if by_batch else {}
    return Repeats(dict(by_batch), batches)


async def list_batches(session: AsyncSession) -> list[tuple[ImportBatch, int]]:
    """Every batch, oldest first, with the number of its responses still stored."""
    counts = dict((await session.execute(
        select(Response.import_batch_id, func.count()).where(Response.import_batch_id.is_not(None))
        .group_by(Response.import_batch_id))).all())
    batches = (await session.scalars(select(ImportBatch).order_by(ImportBatch.id))).all()
    return [(batch, counts.get(batch.id, 0)) for batch in batches]


def parse_batch_id(raw: str) -> int:
    text = raw.strip().lstrip("#")
    if not text.isdigit() or len(text) > 12:
        raise UserError.say("admin.batch_bad_id", raw=raw)
    return int(text)


async def undo_batch(session: AsyncSession, batch_id: int) -> tuple[ImportBatch, int]:
    """Delete a batch and its responses (the caller's one transaction); how many responses went."""
    batch = await session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound.say("admin.batch_unknown", id=batch_id)
    removed = (await session.execute(delete(Response).where(Response.import_batch_id == batch_id))).rowcount
    await session.delete(batch)
    await session.flush()
    return batch, removed


def numbers(rows: Iterable[int]) -> str:
    """Row numbers for a message: "2, 3, 5" or "2, 3, 5, … (40 rows)"."""
    rows = list(rows)
    shown = ", ".join(str(row) for row in rows[:MAX_ROWS_NAMED])
    return shown + (f", … ({len(rows):,} rows)" if len(rows) > MAX_ROWS_NAMED else "")

