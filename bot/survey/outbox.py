"""A database outbox for messages that must not be lost: written in the same transaction as the event that caused
them, delivered by the channel's loop, retried with backoff. A crash or a platform error delays a message; it is
never lost, and it is marked sent right after the platform accepted it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.database import Database
from bot.storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=1)


def enqueue(session: AsyncSession, platform: str, chat_id: str, text: str) -> None:
    session.add(OutboxMessage(platform=platform, chat_id=chat_id, text=text))


async def deliver_due(db: Database, platform: str, send: Callable[[str, str], Awaitable[None]],
                      now: dt.datetime | None = None, limit: int = 20) -> int:
    """Send the due messages of one platform; returns how many went out."""
    now = now or utcnow()
    async with db.reading() as session:
        due = (await session.execute(
            select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.text, OutboxMessage.attempts)
            .where(OutboxMessage.platform == platform, OutboxMessage.sent_at.is_(None),
                   OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(limit))).all()
    sent = 0
    for message_id, chat_id, text, attempts in due:
        async with db.transaction() as session:
            # Claim it first: another worker that read the same row finds it pushed into the future.
            claimed = await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempts,
                                            OutboxMessage.sent_at.is_(None))
                .values(attempts=attempts + 1, next_attempt_at=now + _backoff(attempts + 1))
                .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        try:
            await send(chat_id, text)
        except Exception as error:  # any failure: keep it for the next attempt, after the backoff
            log.warning("outbox message %s not delivered (attempt %d): %s", message_id, attempts + 1,
                        error.__class__.__name__)
            async with db.transaction() as session:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                                      .values(last_error=f"{error.__class__.__name__}: {error}"[:300])
                                      .execution_options(synchronize_session=False))
            continue
        async with db.transaction() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                                  .values(sent_at=utcnow()).execution_options(synchronize_session=False))
        sent += 1
    return sent


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=5 * 2 ** (attempts - 1)), MAX_BACKOFF)
