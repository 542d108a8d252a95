"""Alerts go through a database outbox: written with the response, retried after failures, sent once, and
delivered by another process if this one dies first."""

import asyncio
import datetime as dt

from sqlalchemy import select

from bot.services import open_services
from bot.storage.models import OutboxMessage
from bot.survey import directory, invitations, outbox
from bot.survey.conversation import SurveyService
from surveys import events as ev

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


async def complete_one(services, answers, chat=1):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, f"c{chat}", "Trung tâm Một cửa phường Đông Hà")
        centre.alert_chat = "-100555"
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                         survey="sipas-quick", now=NOW)
    service = SurveyService(services)
    await service.redeem("telegram", chat, issued[0].token, now=NOW)
    for text in answers:
        await service.handle("telegram", chat, ev.Text(text), now=NOW)
    return service


async def outbox_rows(services):
    async with services.db.reading() as session:
        return (await session.scalars(select(OutboxMessage))).all()


async def test_low_rating_or_comment_enqueues_one_alert_and_a_failure_is_retried_once(services):
    await complete_one(services, ["5", "2", "4", "4", "không áp dụng", "bỏ qua"])
    [row] = await outbox_rows(services)
    assert row.chat_id == "-100555" and row.next_attempt_at is None  # not sent, not even scheduled yet
    assert row.text.splitlines() == ["⚠️ Phản hồi cần chú ý – Trung tâm Một cửa phường Đông Hà",
                                     "Tiêu chí bị đánh giá thấp:",
                                     "• Thủ tục hành chính: 2/5 (Không hài lòng)"]
    delivered, failures = [], [ConnectionError("Telegram is down")]

    async def flaky(chat_id, text):  # the transport: down once, then up
        if failures:
            raise failures.pop()
        delivered.append((chat_id, text))

    assert await outbox.deliver_due(services.db, "telegram", flaky) == 0
    [row] = await outbox_rows(services)
    assert row.attempts == 1 and row.last_error == "ConnectionError: Telegram is down"  # kept: not sent
    assert await outbox.deliver_due(services.db, "telegram", flaky) == 0  # not due yet: the backoff holds it back
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert await outbox.deliver_due(services.db, "telegram", flaky, now=later) == 1
    assert await outbox.deliver_due(services.db, "telegram", flaky, now=later + dt.timedelta(hours=2)) == 0
    assert delivered == [("-100555", row.text)]
    assert await outbox_rows(services) == []  # a sent alert is not kept


async def test_no_alert_without_low_ratings_or_comment(services):
    await complete_one(services, ["5", "4", "3", "4", "không áp dụng", "bỏ qua"])
    assert await outbox_rows(services) == []


async def test_an_alert_left_by_a_dead_process_is_sent_by_the_next(settings):
    async with open_services(settings) as first:
        await complete_one(first, ["1", "5", "5", "5", "5", "Tốt"])
    sent = []

    async def send(chat_id, text):
        sent.append(chat_id)

    async with open_services(settings) as second:
        assert await outbox.deliver_due(second.db, "telegram", send) == 1
        assert await outbox.deliver_due(second.db, "telegram", send) == 0
    assert sent == ["-100555"]


async def add_alerts(services, alerts):
    async with services.db.transaction() as session:
        for platform, chat, text in alerts:
            outbox.enqueue(session, platform, chat, text)


async def test_the_worker_holds_new_alerts_a_random_while_then_sends_one_message_per_chat_on_its_platform(services):
    await add_alerts(services, [("telegram", "-1", "A"), ("telegram", "-1", "B"), ("zalo", "z9", "C"),
                                ("telegram", "-1", "D"), ("telegram", "-2", "E")])
    sent = []

    async def telegram(chat, text):
        sent.append(("telegram", chat, text))

    async def zalo(chat, text):
        sent.append(("zalo", chat, text))

    worker = outbox.OutboxWorker(services.db, {"telegram": telegram, "zalo": zalo}, interval_seconds=5,
                                 hold=(0.6, 0.8))
    worker.start()
    try:
        await asyncio.sleep(0.4)
        assert sent == []  # still held back
        for _ in range(100):
            if len(sent) == 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    by_chat = {(platform, chat): text for platform, chat, text in sent}
    assert len(sent) == 3 and set(by_chat) == {("telegram", "-1"), ("telegram", "-2"), ("zalo", "z9")}
    assert sorted(by_chat[("telegram", "-1")].split("\n\n")) == ["A", "B", "D"]
    assert by_chat[("telegram", "-2")] == "E" and by_chat[("zalo", "z9")] == "C"
    assert await outbox_rows(services) == []


async def test_a_batch_stays_within_the_platform_limit_and_a_platform_without_sender_waits(services):
    long = "x" * 1500
    await add_alerts(services, [("telegram", "-1", f"{i}{long}") for i in range(7)] + [("zalo", "z", "later")])
    messages = []

    async def send(chat, text):
        messages.append(text)

    assert await outbox.deliver_due(services.db, "telegram", send) == 7
    assert all(len(text) <= 4096 for text in messages) and len(messages) == 4  # 2 alerts of 1501 a message
    assert sorted(t[0] for text in messages for t in text.split("\n\n")) == [str(i) for i in range(7)]
    [left] = await outbox_rows(services)
    assert left.platform == "zalo" and left.next_attempt_at is None


async def test_two_workers_at_once_send_each_alert_once(settings):
    async with open_services(settings) as first, open_services(settings) as second:
        await add_alerts(first, [("telegram", str(-i), f"alert {i}") for i in range(1, 9)])
        sent = []

        async def slow(chat, text):
            await asyncio.sleep(0.01)
            sent.append(text)

        counts = await asyncio.gather(*(outbox.deliver_due(s.db, "telegram", slow) for s in (first, second)))
        assert sum(counts) == 8 and sorted(sent) == sorted(f"alert {i}" for i in range(1, 9))
        assert await outbox_rows(first) == []


async def test_stop_lets_a_round_finish(services):
    await add_alerts(services, [("telegram", "-1", "A")])
    started, sent = asyncio.Event(), []

    async def slow(chat, text):
        started.set()
        await asyncio.sleep(0.3)
        sent.append(text)

    worker = outbox.OutboxWorker(services.db, {"telegram": slow}, interval_seconds=5, hold=(0, 0))
    worker.start()
    await asyncio.wait_for(started.wait(), 5)
    await worker.stop()
    assert sent == ["A"] and await outbox_rows(services) == []


async def test_an_alert_chat_may_name_its_platform(services):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "zl", "UBND xã Tân Hòa")
        centre.alert_chat = directory.parse_alert_chat("Zalo:abc_123")
        [issued] = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                           survey="sipas-quick", now=NOW)
    service = SurveyService(services)
    await service.redeem("telegram", 7, issued.token, now=NOW)
    for text in ["1", "5", "5", "5", "5", "bỏ qua"]:
        await service.handle("telegram", 7, ev.Text(text), now=NOW)
    [row] = await outbox_rows(services)
    assert (row.platform, row.chat_id) == ("zalo", "abc_123")
    assert directory.parse_alert_chat("-100123") == "-100123"
    assert directory.alert_target("-100123") == ("telegram", "-100123")
    assert directory.parse_alert_chat("telegram:-100123") == "telegram:-100123"
    assert directory.parse_alert_chat(" ") is None


def test_a_bad_alert_chat_is_refused_and_changes_nothing(cli):
    assert cli("centre", "add", "hcc", "Trung tâm Phục vụ hành chính công")[0] == 0
    code, _, err = cli("centre", "set", "hcc", "--name", "Tên mới", "--alert-chat", "viber:123")
    assert code == 1 and "the platform must be one of telegram, zalo" in err
    code, _, err = cli("centre", "set", "hcc", "--alert-chat", "telegram:abc")
    assert code == 1 and "'abc' is not a telegram chat id" in err
    code, out, _ = cli("centre", "set", "hcc", "--alert-chat", "zalo:u-42")
    assert code == 0 and out.strip().endswith("alert chat: zalo:u-42") and "Trung tâm Phục vụ hành chính công" in out
