"""The durable webhook inbox (bot/survey/inbox.py) on a real database: what a crash, a redelivery, a failing step
and a second worker process do to the order and the count of processed events."""

import asyncio
import datetime as dt
import json

from sqlalchemy import select

from bot.storage.database import Database
from bot.storage.models import InboxEvent
from bot.survey import inbox


class Recorder:
    """A handle that records (user, n) and can be slow or fail for chosen events."""

    def __init__(self, slow: float = 0.0, fail: dict[int, int] | None = None) -> None:
        self.seen: list[tuple[str, int]] = []
        self.running: dict[str, int] = {}
        self.overlap = False
        self.slow, self.fail = slow, dict(fail or {})

    async def __call__(self, user: str | None, body: str) -> None:
        n = json.loads(body)["n"]
        self.running[user] = self.running.get(user, 0) + 1
        self.overlap |= self.running[user] > 1
        try:
            await asyncio.sleep(self.slow)
            if self.fail.get(n, 0) > 0:
                self.fail[n] -= 1
                raise ConnectionError(f"event {n} failed")
            self.seen.append((user, n))
        finally:
            self.running[user] -= 1


async def put_events(db, count: int, users: int) -> None:
    for n in range(count):
        assert await inbox.put(db, "zalo-oa", f"msg-{n}", f"user-{n % users}", json.dumps({"n": n}))


def per_user(seen) -> dict[str, list[int]]:
    order: dict[str, list[int]] = {}
    for user, n in seen:
        order.setdefault(user, []).append(n)
    return order


async def test_each_users_events_run_in_arrival_order_and_never_at_once(services):
    await put_events(services.db, 24, users=4)
    handle = Recorder(slow=0.005)
    worker = inbox.InboxWorker(services.db, "zalo-oa", handle, concurrency=4)
    worker.start()
    await worker.drain()
    await worker.stop()
    assert sorted(n for _, n in handle.seen) == list(range(24))
    assert all(ns == sorted(ns) for ns in per_user(handle.seen).values())
    assert not handle.overlap
    assert await inbox.pending(services.db, "zalo-oa") == 0


async def test_a_redelivered_event_is_refused_and_a_processed_row_keeps_only_its_key(services):
    assert await inbox.put(services.db, "zalo-oa", "msg-1", "user-1", '{"n": 1, "text": "Hài lòng"}')
    assert not await inbox.put(services.db, "zalo-oa", "msg-1", "user-1", '{"n": 1, "text": "Hài lòng"}')
    assert await inbox.put(services.db, "zalo-bot", "msg-1", "chat-1", '{"n": 1}')  # another platform's key
    handle = Recorder()
    worker = inbox.InboxWorker(services.db, "zalo-oa", handle)
    worker.start()
    await worker.drain()
    await worker.stop()
    assert handle.seen == [("user-1", 1)]
    assert not await inbox.put(services.db, "zalo-oa", "msg-1", "user-1", '{"n": 1}')  # still refused once done
    async with services.db.reading() as session:
        row = await session.scalar(select(InboxEvent).where(InboxEvent.platform == "zalo-oa"))
    assert (row.done, row.body, row.user_key) == (True, None, None)


async def test_a_failing_step_is_retried_and_holds_back_the_same_users_later_events(services):
    await put_events(services.db, 4, users=2)  # user-0: 0, 2; user-1: 1, 3
    handle = Recorder(fail={0: 1})
    worker = inbox.InboxWorker(services.db, "zalo-oa", handle)
    worker.start()
    await worker.drain(timeout=15)
    await worker.stop()
    assert per_user(handle.seen) == {"user-0": [0, 2], "user-1": [1, 3]}


async def test_an_event_that_keeps_failing_is_given_up_and_the_user_goes_on(services):
    await put_events(services.db, 2, users=1)
    handle = Recorder(fail={0: 99})
    worker = inbox.InboxWorker(services.db, "zalo-oa", handle, max_attempts=2)
    worker.start()
    await worker.drain(timeout=15)
    await worker.stop()
    assert handle.seen == [("user-0", 1)]
    async with services.db.reading() as session:
        given_up = await session.scalar(select(InboxEvent).where(InboxEvent.event_key == "msg-0"))
    assert given_up.done and given_up.attempts == 2 and "event 0 failed" in given_up.last_error


async def test_events_acknowledged_before_a_crash_are_processed_on_the_next_start(services):
    await put_events(services.db, 6, users=3)
    # The process "dies" with the rows written and acknowledged but not processed: no worker ran.
    handle = Recorder()
    restarted = inbox.InboxWorker(services.db, "zalo-oa", handle)
    restarted.start()
    await restarted.drain()
    await restarted.stop()
    assert sorted(n for _, n in handle.seen) == list(range(6))


async def test_a_row_held_by_a_worker_that_died_is_taken_again_after_its_lease(services):
    await put_events(services.db, 1, users=1)
    async with services.db.transaction() as session:  # a dead worker's claim, its lease long over
        row = await session.scalar(select(InboxEvent))
        row.attempts, row.lease_until = 1, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    handle = Recorder()
    worker = inbox.InboxWorker(services.db, "zalo-oa", handle)
    worker.start()
    await worker.drain()
    await worker.stop()
    assert handle.seen == [("user-0", 0)]


async def test_two_worker_processes_on_one_database_share_the_work_in_order(services, settings):
    await put_events(services.db, 30, users=5)
    second_db = Database(settings.resolved_database_url)  # another process: its own engine and connections
    first, second = Recorder(slow=0.003), Recorder(slow=0.003)
    workers = [inbox.InboxWorker(services.db, "zalo-oa", first, concurrency=3),
               inbox.InboxWorker(second_db, "zalo-oa", second, concurrency=3)]
    try:
        for worker in workers:
            worker.start()
        await asyncio.gather(*(worker.drain(timeout=20) for worker in workers))
        for worker in workers:
            await worker.stop()
    finally:
        await second_db.dispose()
    seen = sorted(first.seen + second.seen, key=lambda pair: pair[1])
    assert [n for _, n in seen] == list(range(30))  # each exactly once
    assert first.seen and second.seen  # both took some


async def test_processed_keys_are_forgotten_after_a_day(services):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    assert await inbox.put(services.db, "zalo-oa", "old", "user-0", '{"n": 0}', now=old)
    worker = inbox.InboxWorker(services.db, "zalo-oa", Recorder())
    worker.start()
    await worker.drain()
    await worker.stop()
    await inbox.forget_processed(services.db)  # (the worker's own hourly pass may have done it already)
    assert await inbox.put(services.db, "zalo-oa", "old", "user-0", '{"n": 0}')  # the key is free again
