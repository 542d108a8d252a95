"""A database outbox for messages that must not be lost (alerts): written in the same transaction as the event that
caused them, delivered by one `OutboxWorker` for every platform, retried with backoff. A crash or a platform error
delays a message; it is never lost, and it is deleted right after the platform accepted it.

Anonymity: an alert must not tell the staff chat which citizen just left the counter. A new row waits a random
delay of a few minutes (`HOLD`) before it is sent; alerts that come due together for one chat go as one message, in
random order. A row has a random key and no creation or sending time, and a sent row is deleted.

Platforms differ: a ZNS invitation (platform "zns", one paid message per row, its text a JSON payload) goes at once
and alone, never joined with another (`HOLDS`, `UNBATCHED`). A sender raises `PermanentFailure` for a refusal that
no retry can fix (an invalid phone number, a template not approved); that row, or one that failed `MAX_ATTEMPTS`
times, is marked failed: kept for `sipas-bot outbox list`, never sent again. A failed ZNS row keeps only a masked
number.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.database import Database
from bot.storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
Send = Callable[[str, str], Awaitable[None]]
MAX_BACKOFF = dt.timedelta(hours=1)
HOLD = (120.0, 360.0)  # seconds: a new alert waits a random time in this range
# Platforms whose rows wait another time than the worker's: a ZNS message is an invitation the citizen expects
# now, and it tells no staff chat anything about anybody.
HOLDS: dict[str, tuple[float, float]] = {"zns": (0.0, 0.0)}
UNBATCHED = frozenset({"zns"})  # one row, one message: each is its own template payload
MASKED_WHEN_FAILED = frozenset({"zns"})  # the chat id is a phone number: a failed row keeps only a masked one
MAX_ATTEMPTS = 10
MESSAGE_LIMITS = {"telegram": 4096, "zalo": 2000}  # characters of one message
DEFAULT_LIMIT = 2000
SEPARATOR = "\n\n"
_random = secrets.SystemRandom()


class PermanentFailure(Exception):
    """Raised by a sender for a refusal that retrying cannot fix: the row is marked failed, never sent again."""


def enqueue(session: AsyncSession, platform: str, chat_id: str, text: str) -> None:
    session.add(OutboxMessage(platform=platform, chat_id=chat_id, text=text))


async def deliver_due(db: Database, platform: str, send: Send, now: dt.datetime | None = None,
                      limit: int = 20, hold: tuple[float, float] = (0.0, 0.0)) -> int:
    """Schedule new messages of one platform, then send the due ones; returns how many messages (rows) went out."""
    return await deliver_round(db, {platform: send}, now=now, limit=limit, hold=hold)


async def deliver_round(db: Database, senders: Mapping[str, Send], *, now: dt.datetime | None = None,
                        limit: int = 50, hold: tuple[float, float] = HOLD) -> int:
    """One round for every platform in ``senders``: schedule, then send each chat's due rows as batches."""
    now = now or utcnow()
    await _schedule(db, list(senders), now, hold)
    async with db.reading() as session:
        due = (await session.execute(
            select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.text,
                   OutboxMessage.attempts)
            .where(OutboxMessage.platform.in_(list(senders)), OutboxMessage.next_attempt_at <= now,
                   OutboxMessage.failed.is_(False))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))).all()
    chats: dict[tuple[str, str], list] = defaultdict(list)
    for row in due:
        chats[(row.platform, row.chat_id)].append(row)
    sent = 0
    for (platform, chat_id), rows in chats.items():
        _random.shuffle(rows)  # the order inside a message says nothing about the order of completion
        batches = [[row] for row in rows] if platform in UNBATCHED else \
            _batches(rows, MESSAGE_LIMITS.get(platform, DEFAULT_LIMIT))
        for batch in batches:
            sent += await _deliver(db, senders[platform], platform, chat_id, batch, now)
    return sent


async def _schedule(db: Database, platforms: list[str], now: dt.datetime, hold: tuple[float, float]) -> None:
    """Give new rows their sending time: the one already set for the chat's waiting alerts (so they go together),
    else now plus a random delay. Conditional on the row still being new, so two workers agree."""
    async with db.reading() as session:
        new = (await session.execute(select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.chat_id).where(
            OutboxMessage.platform.in_(platforms), OutboxMessage.next_attempt_at.is_(None)))).all()
        if not new:
            return
        waiting = {(p, c): at for p, c, at in (await session.execute(
            select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.next_attempt_at).where(
                OutboxMessage.platform.in_(platforms), OutboxMessage.attempts == 0,
                OutboxMessage.next_attempt_at > now))).all()}
    async with db.transaction() as session:
        for message_id, platform, chat_id in new:
            at = waiting.get((platform, chat_id))
            if at is None:
                at = waiting[(platform, chat_id)] = now + dt.timedelta(
                    seconds=_random.uniform(*HOLDS.get(platform, hold)))
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.next_attempt_at.is_(None))
                .values(next_attempt_at=at).execution_options(synchronize_session=False))


def _batches(rows: list, limit: int) -> list[list]:
    """Rows grouped so that each group's texts, joined, fit in one message; a text too long alone goes alone."""
    batches, current, size = [], [], 0
    for row in rows:
        extra = len(row.text) + (len(SEPARATOR) if current else 0)
        if current and size + extra > limit:
            batches.append(current)
            current, size = [], 0
            extra = len(row.text)
        current.append(row)
        size += extra
    if current:
        batches.append(current)
    return batches


async def _deliver(db: Database, send: Send, platform: str, chat_id: str, rows: list, now: dt.datetime) -> int:
    async with db.transaction() as session:
        # Claim first: another worker that read the same rows finds them pushed into the future and skips them.
        claimed = []
        for row in rows:
            result = await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts)
                .values(attempts=row.attempts + 1, next_attempt_at=now + _backoff(row.attempts + 1))
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                claimed.append(row)
    if not claimed:
        return 0
    ids = [row.id for row in claimed]
    try:
        await send(chat_id, SEPARATOR.join(row.text for row in claimed))
    except Exception as error:  # a failure: kept for the next attempt after the backoff, or given up
        attempts = max(row.attempts for row in claimed) + 1
        give_up = isinstance(error, PermanentFailure) or attempts >= MAX_ATTEMPTS
        log.warning("outbox: %d %s message(s) not delivered (attempt %d%s): %s", len(claimed), platform, attempts,
                    ", given up" if give_up else "", error.__class__.__name__)
        values: dict = {"last_error": f"{error.__class__.__name__}: {error}"[:300]}
        if give_up:
            values["failed"] = True
            if platform in MASKED_WHEN_FAILED:
                values["chat_id"] = _masked(chat_id)
        async with db.transaction() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values)
                                  .execution_options(synchronize_session=False))
        return 0
    async with db.transaction() as session:  # sent: nothing of it is kept
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids))
                              .execution_options(synchronize_session=False))
    return len(claimed)


def _masked(chat_id: str) -> str:
    return f"{chat_id[:5]}***{chat_id[-3:]}" if len(chat_id) > 8 else "***"


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=5 * 2 ** (attempts - 1)), MAX_BACKOFF)


class OutboxWorker:
    """Delivers the outbox of every platform in ``senders`` ({"telegram": send, ...}, each ``send(chat_id,
    text)``): every ``interval_seconds``, and soon after `wake` (a survey completed). ``hold`` is the range of
    the random delay of a new message, in seconds (tests shorten it)."""

    def __init__(self, db: Database, senders: Mapping[str, Send], interval_seconds: float,
                 hold: tuple[float, float] = HOLD) -> None:
        self.db, self.senders, self.interval, self.hold = db, dict(senders), interval_seconds, hold
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Let a round finish rather than cancel it inside a database call: a driver interrupted mid-query can
        leave its connection unusable and the shutdown waiting on it."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await deliver_round(self.db, self.senders, hold=self.hold)
            except Exception:  # the loop must survive a database hiccup; the next round tries again
                log.exception("outbox: delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._pause())
            self._wake.clear()

    def _pause(self) -> float:
        # A short hold (tests) must not wait a whole interval for what it scheduled.
        return min(self.interval, max(self.hold[1], 0.05))
