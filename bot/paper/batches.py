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


def _key(centre_id: int, service_id: int | None, day, ratings: bytes, comment: str | None) -> tuple:
    """The cheap part of what makes two paper forms the same: the packed ratings already tell most forms apart."""
    return centre_id, service_id, day, bytes(ratings), comment


def _answers(answers: dict | None) -> str:
    return json.dumps(answers or {}, sort_keys=True, ensure_ascii=False)


async def find_repeats(session: AsyncSession, instrument: Instrument, rows: Sequence[dict],
                       row_numbers: Sequence[int]) -> Repeats:
    """The new rows (plain response values, as inserted) that exactly repeat rows of earlier batches.

    Two passes, so that a large file compared with many stored rows stays fast: the stored rows' keys without
    the JSON answers first, then the answers of the few stored rows whose key a new row has."""
    if not rows:
        return Repeats({}, {})
    wanted = {_key(r["centre_id"], r["service_id"], r["submitted_on"], r["ratings"], r["comment"]) for r in rows}
    days = [row["submitted_on"] for row in rows]
    query = (
        select(Response.id, Response.import_batch_id, Response.centre_id, Response.service_id,
               Response.submitted_on, Response.ratings, Response.comment)
        .where(Response.import_batch_id.is_not(None), Response.instrument == instrument.id,
               Response.instrument_version == instrument.version, Response.submitted_on >= min(days),
               Response.submitted_on <= max(days),
               Response.centre_id.in_(sorted({row["centre_id"] for row in rows})))
    )
    connection = await session.connection()  # Core rows: the ORM's per-row work was most of the time
    candidates: dict[tuple, list[tuple[str, int]]] = defaultdict(list)  # key -> (response id, its batch)
    for response_id, batch_id, *columns in await connection.execute(query):
        key = _key(*columns)
        if key in wanted:
            candidates[key].append((response_id, batch_id))
    ids = [response_id for found in candidates.values() for response_id, _ in found]
    stored_answers: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chosen = select(Response.id, Response.answers).where(Response.id.in_(ids[start:start + 500]))
        stored_answers.update((rid, _answers(answers)) for rid, answers in await connection.execute(chosen))
    by_batch: dict[int, list[int]] = defaultdict(list)
    for row, number in zip(rows, row_numbers, strict=True):
        found = candidates.get(_key(row["centre_id"], row["service_id"], row["submitted_on"], row["ratings"],
                                    row["comment"]))
        if not found:
            continue
        answers = _answers(row["answers"])
        match = next((i for i, (rid, _) in enumerate(found) if stored_answers[rid] == answers), None)
        if match is not None:
            by_batch[found.pop(match)[1]].append(number)  # each stored form matches one new form
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
    """Row numbers for a message in any language: "2, 3, 5", or the first 20 and "… (+40)" for the rest."""
    rows = list(rows)
    shown = ", ".join(str(row) for row in rows[:MAX_ROWS_NAMED])
    return shown + (f", … (+{len(rows) - MAX_ROWS_NAMED})" if len(rows) > MAX_ROWS_NAMED else "")

