"""A durable inbox for webhook events: written (one INSERT) before the webhook is acknowledged, processed afterwards.

Zalo wants a webhook answered within about two seconds, while one survey step makes outgoing API calls that can be
slow. So the channel verifies an event, `put`s it here and answers 200 at once; an `InboxWorker` processes the rows,
in arrival order for each user and several users at a time, and sends the replies. A crash after the
acknowledgement loses nothing: the rows are still here, and the worker takes them on start.

Safe with several worker processes: a row is claimed with a lease (a conditional UPDATE), and a user's next row is
taken only when no earlier row of that user is unfinished, so one user's events never run out of order or at once.
A redelivered event (same key) is refused by the unique key, for a day after it was processed. A processed row
keeps only that key: its body and user are cleared at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot import counters
from bot.storage.database import Database
from bot.storage.models import InboxEvent, utcnow

log = logging.getLogger(__name__)
Handle = Callable[[str | None, str], Awaitable[None]]  # (user_key, body)
LEASE = dt.timedelta(seconds=120)  # a worker that died holding a row gives it up after this
KEEP_KEYS = dt.timedelta(days=1)  # processed keys refuse redeliveries this long
MAX_ATTEMPTS = 5
INBOX = InboxEvent.__table__


async def put(db: Database, platform: str, event_key: str, user_key: str | None, body: str,
              now: dt.datetime | None = None) -> bool:
    """Keep one verified event; False when its key was seen before (a redelivery: nothing is written)."""
    insert = sqlite_insert if db.is_sqlite else postgresql_insert
    statement = insert(INBOX).values(platform=platform, event_key=event_key[:200], user_key=user_key, body=body,
                                     received_at=now or utcnow(), done=False, attempts=0).on_conflict_do_nothing()
    async with db.transaction(urgent=True) as session:  # the platform waits for it: before the worker's writes
        result = await session.execute(statement)
    return result.rowcount == 1


async def pending(db: Database, platform: str) -> int:
    """How many events of ``platform`` wait to be processed."""
    async with db.reading() as session:
        return await session.scalar(select(func.count()).select_from(INBOX).where(
            INBOX.c.platform == platform, INBOX.c.done.is_(False)))


async def forget_processed(db: Database, now: dt.datetime | None = None) -> int:
    """Drop the keys of events processed more than a day ago (their redelivery horizon is over)."""
    async with db.transaction() as session:
        result = await session.execute(delete(INBOX).where(INBOX.c.done.is_(True),
                                                           INBOX.c.received_at < (now or utcnow()) - KEEP_KEYS))
    return result.rowcount


class InboxWorker:
    """Processes the inbox of one platform with ``handle(user_key, body)``: at most ``concurrency`` users at once,
    each user's events one after another in arrival order. `wake` after a `put` makes it look at once; otherwise it
    looks every ``interval`` seconds (rows put by another process)."""

    def __init__(self, db: Database, platform: str, handle: Handle, *, concurrency: int = 8,
                 interval: float = 1.0, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.db, self.platform, self.handle = db, platform, handle
        self.concurrency, self.interval, self.max_attempts = concurrency, interval, max_attempts
        self._wake = asyncio.Event()
        self._busy_users: set[str | None] = set()
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.Task | None = None
        self._stopping = False
        self.processed = 0

    def start(self) -> None:
        if self._loop is None:
            self._stopping = False
            self._loop = asyncio.create_task(self._run(), name=f"inbox-{self.platform}")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; let the events in hand finish (an unfinished one is taken again after its lease)."""
        if self._loop is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop
        self._loop = None
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=timeout)
            for task in late:
                task.cancel()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until nothing of this platform is pending or in hand (tests, benchmarks)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while await pending(self.db, self.platform) or self._tasks:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the {self.platform} inbox did not drain in {timeout} s")
            self.wake()
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        last_forget = None
        while not self._stopping:
            try:
                claimed = await self._claim(utcnow())
                if last_forget is None or utcnow() - last_forget > dt.timedelta(hours=1):
                    last_forget = utcnow()
                    await forget_processed(self.db)
            except Exception:  # a database hiccup must not end the worker; the next look tries again
                log.exception("inbox %s: claiming failed", self.platform)
                claimed = 0
            if claimed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()

    async def _claim(self, now: dt.datetime) -> int:
        """Claim the oldest unfinished row of each user that has none in hand, in one transaction; start a task
        for each."""
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return 0
        oldest = (select(func.min(INBOX.c.id)).where(INBOX.c.platform == self.platform, INBOX.c.done.is_(False))
                  .group_by(INBOX.c.user_key))  # only a user's oldest unfinished row may run
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(INBOX.c.id, INBOX.c.user_key, INBOX.c.attempts, INBOX.c.lease_until)
                .where(INBOX.c.id.in_(oldest)).order_by(INBOX.c.id).limit(500))).all()
        # Not in hand here or in another worker, nor waiting for its retry.
        free = [row for row in rows if row.user_key not in self._busy_users
                and (row.lease_until is None or _aware(row.lease_until) <= now)][:room]
        if not free:
            return 0
        claimed = []
        async with self.db.transaction() as session:
            for row in free:
                result = await session.execute(
                    update(INBOX).where(INBOX.c.id == row.id, INBOX.c.attempts == row.attempts,
                                        or_(INBOX.c.lease_until.is_(None), INBOX.c.lease_until <= now))
                    .values(lease_until=now + LEASE, attempts=row.attempts + 1))
                if result.rowcount == 1:  # else another worker claimed it first
                    claimed.append(row)
        for row in claimed:
            self._busy_users.add(row.user_key)
            task = asyncio.create_task(self._process(row.id, row.user_key, row.attempts + 1))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claimed)

    async def _process(self, row_id: int, user: str | None, attempt: int) -> None:
        try:
            async with self.db.reading() as session:
                body = await session.scalar(select(INBOX.c.body).where(INBOX.c.id == row_id))
            try:
                await self.handle(user, body or "")
            except Exception as error:
                counters.error_caught("bot")  # the channel's handler failed (kept for a retry)
                await self._failed(row_id, attempt, error)
                return
            async with self.db.transaction() as session:
                await session.execute(update(INBOX).where(INBOX.c.id == row_id).values(
                    done=True, body=None, user_key=None, lease_until=None, last_error=None))
            self.processed += 1
        except Exception:
            log.exception("inbox %s: bookkeeping of event %s failed", self.platform, row_id)
        finally:
            self._busy_users.discard(user)
            self._wake.set()  # the user's next event may be waiting

    async def _failed(self, row_id: int, attempt: int, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"[:300]
        if attempt >= self.max_attempts:
            log.error("inbox %s: event %s given up after %d attempts (%s)", self.platform, row_id, attempt,
                      type(error).__name__)
            values = {"done": True, "body": None, "user_key": None, "lease_until": None, "last_error": reason}
        else:
            log.warning("inbox %s: event %s failed (attempt %d, %s); retrying", self.platform, row_id, attempt,
                        type(error).__name__)
            values = {"lease_until": utcnow() + dt.timedelta(seconds=2 ** attempt), "last_error": reason}
        async with self.db.transaction() as session:
            await session.execute(update(INBOX).where(INBOX.c.id == row_id).values(**values))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = ["InboxWorker", "forget_processed", "pending", "put"]
