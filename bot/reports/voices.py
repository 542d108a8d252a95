"""What citizens said besides their ratings, for one centre over a date range: the answers to the unscored choice
questions (sipas-2023: harassment, informal payments, how the dossier was submitted, the expectations) and the
latest comments, masked again before anyone reads them.

A question's shares are published only when at least ``min_n`` people answered it, as for a criterion: a handful of
answers would let counter staff guess who reported a payment. Comments carry their month, never their day or
their ratings, so a comment cannot be matched to a visit or to a case.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Centre, Response
from surveys.instrument import Instrument, Question
from surveys.intervals import wilson_interval
from surveys.redact import redact

LATEST_COMMENTS = 10


@dataclass(frozen=True)
class Share:
    value: int | str
    label: str
    count: int
    pct: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class Answers:
    """One unscored question: how many answered it and, when published, each option's share with its interval."""

    code: str
    text: str
    n: int
    shares: tuple[Share, ...] | None  # None: fewer than min_n answers (only n is shown)


@dataclass(frozen=True)
class Comment:
    month: str  # YYYY-MM
    text: str


@dataclass(frozen=True)
class Voices:
    answers: tuple[Answers, ...]
    comments: tuple[Comment, ...]


def unscored_questions(instrument: Instrument) -> tuple[Question, ...]:
    """The choice questions that are not criteria: asked, stored, never part of SIPAS."""
    criteria = instrument.criteria()
    return tuple(q for q in instrument.questions() if q.type == "choice" and q.code not in criteria)


async def centre_voices(session: AsyncSession, instrument: Instrument, centre_code: str, first: dt.date,
                        last: dt.date, language: str, min_n: int) -> Voices:
    """The unscored answers and the latest comments of ``centre_code`` from ``first`` to ``last`` (both kept)."""
    rows = (await session.execute(
        select(Response.submitted_on, Response.answers, Response.comment)
        .join(Centre, Centre.id == Response.centre_id)
        .where(Centre.code == centre_code, Response.instrument == instrument.id,
               Response.submitted_on >= first, Response.submitted_on <= last))).all()
    questions = unscored_questions(instrument)
    answers = tuple(_answers(question, [row[1] or {} for row in rows], language, min_n) for question in questions)
    written = sorted(((row[0], row[2]) for row in rows if row[2] and row[2].strip()), key=lambda r: r[0],
                     reverse=True)[:LATEST_COMMENTS]
    comments = tuple(Comment(f"{_day(day):%Y-%m}", redact(text.strip())) for day, text in written)
    return Voices(answers, comments)


def _answers(question: Question, stored: list[dict], language: str, min_n: int) -> Answers:
    values = [answer.get(question.code) for answer in stored]
    known = {option.value for option in question.options}
    given = [value for value in values if value in known]
    n = len(given)
    text = (question.short or question.text).get(language)
    if n < max(min_n, 1):
        return Answers(question.code, text, n, None)
    tally = Counter(given)
    counts = np.array([tally[option.value] for option in question.options])
    low, high = wilson_interval(counts, np.full(len(counts), n))
    shares = tuple(Share(option.value, option.label.get(language), int(count), 100 * count / n,
                         (float(lo), float(hi)))
                   for option, count, lo, hi in zip(question.options, counts, low, high, strict=True))
    return Answers(question.code, text, n, shares)


def _day(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
