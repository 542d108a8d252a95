"""Overdue follow-up cases escalate through the real sweep and outbox: the handler (or the centre's alert chat),
then the centre's head, then the province admin chat, each step once; a sensitive case never reaches counter staff."""

import datetime as dt

import pytest
from case_world import ALL_FIVE, NOW, add_centre, case_rows, complete, ratings, sweep
from sqlalchemy import delete

from bot.services import open_services
from bot.storage.models import OutboxMessage
from bot.survey import case_access, directory, outbox

ALERT_CHAT, HEAD, ADMIN_CHAT, CLERK = "-100555", "777", "-100999", "888"


def at(day: int, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, 2, 0, tzinfo=dt.UTC)  # 9:00 in Hà Nội


@pytest.fixture
async def province(settings):
    async with open_services(settings.model_copy(update={"admin_alert_chat": f"telegram:{ADMIN_CHAT}"})) as services:
        code = await add_centre(services, alert_chat=ALERT_CHAT)
        async with services.db.transaction() as session:
            await directory.add_staff(session, code, "telegram", HEAD, "head", "Lê Văn Trưởng")
            await directory.add_staff(session, code, "telegram", CLERK, "staff", "Phạm Thu Hà")
        yield services, code


async def sent_now(services, when):
    """Deliver what the outbox holds (no hold) and say {chat: [texts]}; the low-rating alert of the survey too."""
    got: dict[str, list[str]] = {}

    async def send(chat, message):
        got.setdefault(chat, []).extend(message.split(outbox.SEPARATOR))

    await outbox.deliver_round(services.db, {"telegram": send}, now=when, hold=(0.0, 0.0))
    return got


async def forget_alerts(services):
    async with services.db.transaction() as session:
        await session.execute(delete(OutboxMessage))


async def test_an_overdue_case_reminds_the_alert_chat_then_the_head_then_the_province_each_once(province):
    services, code = province
    await complete(services, code, ratings(staff_1=1))  # Friday 20/11: due Friday 27/11
    await forget_alerts(services)  # the survey's own low-rating alert
    await sweep(services, NOW + dt.timedelta(minutes=5))
    [case] = await case_rows(services)
    assert await sent_now(services, at(20)) == {}
    await sweep(services, at(27))  # the due day itself
    await sweep(services, at(28))  # Saturday: not a working day past the due date
    assert await sent_now(services, at(28)) == {}
    await sweep(services, at(30))  # Monday: the first working day late
    assert await sent_now(services, at(30)) == {ALERT_CHAT: [
        f"⏰ Phản hồi {case.id} – Trung tâm Một cửa phường Đông Hà: đã quá hạn xử lý (hạn 27/11/2026). "
        "Trạng thái: mới. Người xử lý: chưa phân công. Đề nghị xử lý và ghi lại kết quả."]}
    await sweep(services, at(30) + dt.timedelta(hours=1))
    await sweep(services, at(1, 12))  # Tuesday: 2 working days late, the head waits for 3 (1 + 2)
    assert await sent_now(services, at(1, 12)) == {}
    await sweep(services, at(2, 12))
    assert await sent_now(services, at(2, 12)) == {HEAD: [
        f"⏰ Phản hồi {case.id} – Trung tâm Một cửa phường Đông Hà: quá hạn 3 ngày làm việc (hạn 27/11/2026) mà "
        "chưa xử lý xong. Trạng thái: mới. Người xử lý: chưa phân công. Đề nghị lãnh đạo Trung tâm chỉ đạo xử lý."]}
    await sweep(services, at(4, 12))  # Friday: 5 late
    assert await sent_now(services, at(4, 12)) == {}
    await sweep(services, at(7, 12))  # Monday: 6 late = 1 + 5, the province admin
    [message] = (await sent_now(services, at(7, 12)))[ADMIN_CHAT]
    assert message.startswith(f"⏰ Phản hồi {case.id} – Trung tâm Một cửa phường Đông Hà: quá hạn 6 ngày làm việc")
    for later in (8, 9, 21):
        await sweep(services, at(later, 12))
    assert await sent_now(services, at(21, 12)) == {}  # every step once
    assert (await case_rows(services))[0].escalation == 3


async def test_the_assigned_staff_member_gets_the_first_reminder_and_a_resolved_case_none(province):
    services, code = province
    await complete(services, code, ratings(result_2=2), chat=1)
    await complete(services, code, ratings(result_3=1), chat=2)
    await forget_alerts(services)
    await sweep(services, NOW + dt.timedelta(minutes=5))
    first, second = await case_access.list_cases_in(services, case_access.ADMIN, dt.date(2026, 11, 20))
    async with services.db.transaction() as session:
        await case_access.move_case(session, case_access.ADMIN, first.id, "assign", assignee="Phạm Thu Hà",
                                    now=NOW, today=dt.date(2026, 11, 20))
        await case_access.move_case(session, case_access.ADMIN, second.id, "start", now=NOW,
                                    today=dt.date(2026, 11, 20))
        await case_access.move_case(session, case_access.ADMIN, second.id, "resolve", note="Đã trả lời",
                                    now=NOW, today=dt.date(2026, 11, 20))
    await sweep(services, at(30))
    got = await sent_now(services, at(30))
    assert list(got) == [CLERK] and len(got[CLERK]) == 1 and first.id in got[CLERK][0]
    assert "Người xử lý: Phạm Thu Hà." in got[CLERK][0]


async def test_a_sensitive_case_is_announced_to_the_head_and_the_province_and_never_reminds_counter_staff(province):
    services, code = province
    await complete(services, code, ALL_FIVE, payment="2")
    assert await sent_now(services, NOW) == {}  # no low rating, no comment: no alert to the counter's chat
    await sweep(services, NOW + dt.timedelta(minutes=5))
    [case] = await case_rows(services)
    announced = (f"🔒 Phản hồi {case.id} – Trung tâm Một cửa phường Đông Hà: người dân phản ánh về tiền ngoài quy "
                 "định. Hạn xử lý: 27/11/2026. Chỉ lãnh đạo Trung tâm và quản trị viên tỉnh xem được phản hồi này.")
    assert await sent_now(services, NOW + dt.timedelta(minutes=5)) == {HEAD: [announced], ADMIN_CHAT: [announced]}
    await sweep(services, NOW + dt.timedelta(minutes=10))
    assert await sent_now(services, NOW + dt.timedelta(minutes=10)) == {}  # announced once
    await sweep(services, at(30))
    got = await sent_now(services, at(30))
    assert list(got) == [HEAD] and "đã quá hạn xử lý" in got[HEAD][0]  # not the alert chat
