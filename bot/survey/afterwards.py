"""What a chat is told after its survey ended: a short thank-you instead of the greeting, and a comment sent in
several messages kept whole.

When a survey completes, its session row is deleted and a `FinishedChat` row is left for the same keyed chat hash:
the language, and when the last answer was the comment, for a few minutes the response it produced, so that the
next messages of a comment typed in pieces are added to that response's comment (up to the instrument's limit).
It holds no answer, no invitation and no time: the response is forgotten by the second sweep that finds it (5 to
10 minutes, the sweep running every 5), and the row goes after the next day, a date like the response's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import FinishedChat, Response
from bot.storage.responses import COMMENT_CODE
from bot.survey import cases
from bot.texts import language_of, say
from surveys.instrument import Instrument
from surveys.redact import redact
from surveys.textmatch import normalize_text

FINISHED_DAYS = 2  # a finished chat is thanked rather than greeted until this many days after (at 00:00 UTC)

__all__ = ["COMMENT_CODE", "add_to_comment", "comment_open", "expire", "find", "forget", "remember"]


async def forget(session: AsyncSession, platform: str, chat_hash: str) -> None:
    """Drop the chat's finished row (a new survey starts)."""
    await session.execute(delete(FinishedChat).where(FinishedChat.platform == platform,
                                                     FinishedChat.chat_hash == chat_hash))


async def remember(session: AsyncSession, platform: str, chat_hash: str, language: str, response_id: str | None,
                   comment_last: bool, now: dt.datetime) -> None:
    """Leave a finished row for a chat whose survey just completed."""
    await forget(session, platform, chat_hash)
    # A date, not a time: the row must not say when (or in which order) surveys ended.
    session.add(FinishedChat(
        platform=platform, chat_hash=chat_hash, language=language_of(language),
        response_id=response_id if comment_last else None, comment_seen=False,
        forget_after=now.astimezone(dt.UTC).date() + dt.timedelta(days=FINISHED_DAYS)))


async def find(session: AsyncSession, platform: str, chat_hash: str, now: dt.datetime) -> FinishedChat | None:
    """The chat's finished row, while it is kept."""
    row = await session.get(FinishedChat, (platform, chat_hash))
    return row if row is not None and row.forget_after > now.astimezone(dt.UTC).date() else None


def comment_open(row: FinishedChat) -> str | None:
    """The response whose comment a message may still add to, or None once the few minutes are over."""
    return row.response_id


async def add_to_comment(session: AsyncSession, instrument_of: Callable[[str], Instrument], response_id: str,
                         text: str, language: str) -> str:
    """Add ``text`` to the stored comment of ``response_id``, within the instrument's limit; says what happened."""
    lang = language_of(language)
    addition = redact(normalize_text(text))
    stored = (await session.execute(select(Response.comment, Response.instrument)
                                    .where(Response.id == response_id))).first()
    if stored is None:  # removed meanwhile (an import undone): nothing to add to
        return say("citizen.after_end", lang)
    limit = instrument_of(stored.instrument).question(COMMENT_CODE).max_length or 2000
    current = stored.comment or ""
    if len(current) >= limit:
        return say("citizen.comment_full", lang, limit=limit)
    combined = f"{current}\n{addition}" if current else addition
    await session.execute(update(Response).where(Response.id == response_id)
                          .values(comment=combined[:limit].rstrip()).execution_options(synchronize_session=False))
    await cases.comment_grew(session, response_id, combined[:limit].rstrip())  # its case, not yet published
    if len(combined) > limit:
        return say("citizen.comment_cut", lang, limit=limit)
    return say("citizen.comment_added", lang)


async def expire(session: AsyncSession, now: dt.datetime) -> None:
    """One sweep: forget finished chats past their day, the responses a previous sweep saw, and mark the rest."""
    await session.execute(delete(FinishedChat).where(FinishedChat.forget_after <= now.astimezone(dt.UTC).date()))
    await session.execute(update(FinishedChat).where(FinishedChat.comment_seen.is_(True))
                          .values(response_id=None).execution_options(synchronize_session=False))
    await session.execute(update(FinishedChat).where(FinishedChat.response_id.is_not(None))
                          .values(comment_seen=True).execution_options(synchronize_session=False))
