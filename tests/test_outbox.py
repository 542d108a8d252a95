"""Alerts go through a database outbox: written with the response, retried after failures, sent once, and
delivered by another process if this one dies first."""

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
    service = await complete_one(services, ["5", "2", "4", "4", "không áp dụng", "bỏ qua"])
    [row] = await outbox_rows(services)
    assert row.chat_id == "-100555" and row.sent_at is None
    assert row.text.splitlines() == ["⚠️ Phản hồi cần chú ý – Trung tâm Một cửa phường Đông Hà",
                                     "Tiêu chí bị đánh giá thấp:",
                                     "• Thủ tục hành chính: 2/5 (Không hài lòng)"]
    delivered, failures = [], [ConnectionError("Telegram is down")]

    async def flaky(chat_id, text):  # the transport: down once, then up
        if failures:
            raise failures.pop()
        delivered.append((chat_id, text))

    assert await service.deliver_outbox("telegram", flaky) == 0
    [row] = await outbox_rows(services)
    assert row.attempts == 1 and row.sent_at is None and row.last_error == "ConnectionError: Telegram is down"
    assert await service.deliver_outbox("telegram", flaky) == 0  # not due yet: the backoff holds it back
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert await outbox.deliver_due(services.db, "telegram", flaky, now=later) == 1
    assert await outbox.deliver_due(services.db, "telegram", flaky, now=later + dt.timedelta(hours=2)) == 0
    assert delivered == [("-100555", row.text)]


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
        assert await SurveyService(second).deliver_outbox("telegram", send) == 1
        assert await SurveyService(second).deliver_outbox("telegram", send) == 0
    assert sent == ["-100555"]
