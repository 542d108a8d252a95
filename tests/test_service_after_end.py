"""What every channel inherits from the service and the presenter: after the end a thank-you (not the greeting),
a comment sent in several messages kept whole, the introduction again in English, a redelivered event answered with
the current question, stale confirmation buttons refused, typed answers echoed with their number."""

import datetime as dt

import pytest
from sqlalchemy import select
from test_service import NOW, answer_all, world  # noqa: F401  (the fixture)

from bot.storage.models import FinishedChat, Response
from bot.survey.presenter import present
from surveys import events as ev

RATINGS = ["5", "4", "2", "3", "không áp dụng"]


async def stored_comment(services):
    async with services.db.reading() as session:
        return (await session.scalars(select(Response.comment))).one()


async def test_a_message_after_completion_is_thanked_not_greeted(services, world):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 11, issued[0].token, now=NOW)
    await answer_all(service, 11, [*RATINGS, "bỏ qua"])
    later = NOW + dt.timedelta(hours=2)
    outcome = await service.handle("telegram", 11, ev.Text("cảm ơn"), now=later)
    assert outcome.status == "finished"
    assert outcome.texts == ("Cảm ơn, câu trả lời của Ông/Bà đã được ghi nhận.",)
    assert await stored_comment(services) is None  # a skipped comment is not reopened by a later message
    tomorrow = NOW + dt.timedelta(days=2)
    await service.expire_abandoned(now=tomorrow)
    again = await service.handle("telegram", 11, ev.Text("xin chào"), now=tomorrow)
    assert again.status == "no_survey" and "mã khảo sát" in again.texts[0]  # after a day: the greeting again


async def test_a_comment_sent_in_several_messages_is_kept_whole(services, world):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 12, issued[0].token, now=NOW)
    done = await answer_all(service, 12, [*RATINGS, "Cán bộ nhiệt tình,"])
    assert done.reply.status == "completed"
    soon = NOW + dt.timedelta(minutes=2)
    more = await service.handle("telegram", 12, ev.Text("nhưng phải chờ lâu. Gọi tôi 0912 345 678"), now=soon)
    assert more.texts == ("Chúng tôi đã bổ sung nội dung này vào ý kiến của Ông/Bà.",)
    assert await stored_comment(services) == "Cán bộ nhiệt tình,\nnhưng phải chờ lâu. Gọi tôi [số điện thoại]"
    thanks = await service.handle("telegram", 12, ev.Text("Cảm ơn nhiều nhé!"), now=soon)
    assert thanks.texts == ("Cảm ơn, câu trả lời của Ông/Bà đã được ghi nhận.",)  # a thank-you, not comment
    assert await stored_comment(services) == "Cán bộ nhiệt tình,\nnhưng phải chờ lâu. Gọi tôi [số điện thoại]"
    # The instrument's limit holds for the whole comment, and the citizen is told when it is cut.
    limit = services.instrument("sipas-quick").question("comment").max_length
    cut = await service.handle("telegram", 12, ev.Text("x" * limit), now=soon)
    assert str(limit) in cut.texts[0] and "chỉ ghi nhận" in cut.texts[0]
    assert len(await stored_comment(services)) == limit
    full = await service.handle("telegram", 12, ev.Text("thêm nữa"), now=soon)
    assert "không thể bổ sung" in full.texts[0] and len(await stored_comment(services)) == limit
    # A sweep (every five minutes) marks the window; the next one closes it. No time is stored for it.
    await service.expire_abandoned(now=NOW + dt.timedelta(minutes=5))
    still = await service.handle("telegram", 12, ev.Text("x"), now=NOW + dt.timedelta(minutes=6))
    assert "không thể bổ sung" in still.texts[0]  # still open after one sweep (and still full)
    await service.expire_abandoned(now=NOW + dt.timedelta(minutes=10))
    async with services.db.reading() as session:
        finished = (await session.scalars(select(FinishedChat))).one()
    assert finished.response_id is None
    late = await service.handle("telegram", 12, ev.Text("một ý nữa"), now=NOW + dt.timedelta(minutes=12))
    assert late.texts == ("Cảm ơn, câu trả lời của Ông/Bà đã được ghi nhận.",)
    assert len(await stored_comment(services)) == limit


async def test_a_new_code_after_the_end_starts_a_new_survey(services, world):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 13, issued[0].token, now=NOW)
    await answer_all(service, 13, [*RATINGS, "bỏ qua"])
    outcome = await service.handle("telegram", 13, ev.Text(issued[1].display_code), now=NOW)
    assert outcome.status == "survey" and outcome.started
    async with services.db.reading() as session:
        assert (await session.scalars(select(FinishedChat))).all() == []


async def test_english_repeats_the_introduction_in_english(services, world):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 14, issued[0].token, now=NOW)
    outcome = await service.handle("telegram", 14, ev.SetLanguage("en"), now=NOW)
    shown = present(outcome, pressed=True)
    intro = shown.messages[0].text
    assert intro.startswith("Trung tâm Phục vụ hành chính công tỉnh – service: Đăng ký đất đai. Your answers are "
                            "anonymous")
    assert "Switched to English." in intro and "The survey has 6 short questions" in intro
    assert shown.messages[-1].text.startswith("Question 1/6.")
    assert [m.text for m in shown.messages if "Câu" in m.text or "Ông/Bà" in m.text] == []  # no Vietnamese left


async def test_a_redelivered_event_shows_the_current_question(services, world):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 15, issued[0].token, now=NOW, event_key="u1")
    await service.handle("telegram", 15, ev.Text("5"), now=NOW, event_key="u2")
    again = await service.handle("telegram", 15, ev.Text("5"), now=NOW, event_key="u2")
    assert again.status == "duplicate" and again.reply.question.code == "procedure_1"
    shown = present(again, pressed=True)
    assert shown.toast is None and shown.messages[-1].text.startswith("Câu 2/6.")
    async with services.db.reading() as session:
        assert (await session.scalars(select(Response))).all() == []


async def test_yes_stop_pressed_after_choosing_to_continue_changes_nothing(services, world):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 16, issued[0].token, now=NOW)
    asking = present(await service.handle("telegram", 16, ev.Cancel(), now=NOW))
    [yes, no] = asking.messages[-1].choices[0]
    assert (yes.label, no.label) == ("Có, dừng khảo sát", "Không, tiếp tục")
    await service.handle("telegram", 16, ev.Resume(), now=NOW)  # "Không, tiếp tục"
    stale = present(await service.handle("telegram", 16, ev.Cancel(confirmed=True), now=NOW), pressed=True)
    assert stale.toast == "Câu hỏi này đã qua. Ông/Bà vui lòng trả lời câu hỏi hiện tại." and not stale.messages
    still = await service.handle("telegram", 16, ev.Text("5"), now=NOW)
    assert still.reply.status == "active" and still.reply.question.code == "procedure_1"


@pytest.mark.parametrize("typed, echo", [("4", "Ông/Bà chọn: 4 – Hài lòng"),
                                         ("rất hài lòng", "Ông/Bà chọn: 5 – Rất hài lòng"),
                                         ("bỏ qua", "Ông/Bà đã bỏ qua câu này.")])
async def test_typed_answers_are_echoed_with_their_number(services, world, typed, echo):  # noqa: F811
    service, issued = world
    await service.redeem("telegram", 17, issued[0].token, now=NOW)
    shown = present(await service.handle("telegram", 17, ev.Text(typed), now=NOW))
    assert shown.closing.echo == echo and shown.closing.question == "access_1"
    assert shown.closing.text.startswith("Câu 1/6.")
    options = [row[0].label for row in shown.messages[-1].choices[:5]]
    assert options == ["5 · Rất hài lòng", "4 · Hài lòng", "3 · Bình thường", "2 · Không hài lòng",
                       "1 · Rất không hài lòng"]
