"""The Zalo OA channel end to end (tests/zalo_oa_served.py): signed webhook events into the real `serve` app, its
replies out to the fake OA API; a citizen completes sipas-2023 by buttons and by typing, anonymously, and the
report counts the response under channel zalo-oa."""

import json

import pytest
from sqlalchemy import func, select
from zalo_oa_served import serving

from bot.reports.dataset import load_ratings
from bot.services import open_services
from bot.storage.models import Response, SurveySession
from surveys.loader import load_builtin

SIPAS = load_builtin()["sipas-2023"]


@pytest.fixture
async def served(settings):
    async with serving(settings) as running:
        yield running


async def stored(settings):
    """The responses, how many survey sessions are open, and the ratings of the responses (NA = 0)."""
    async with open_services(settings) as services, services.db.reading() as session:
        responses = (await session.scalars(select(Response))).all()
        sessions = await session.scalar(select(func.count()).select_from(SurveySession))
        ratings = await load_ratings(session, SIPAS)
    return responses, sessions, ratings


async def test_sipas_2023_by_buttons_after_typing_the_code(served, cli):
    citizen = served.citizen("6142494823001")
    welcome, first = await citizen.says(served.issued["sipas-2023"][0].display_code)
    assert "ẩn danh" in welcome.text and welcome.payloads == ["#l|vi", "#l|en"]
    assert first.text.startswith("Câu 1/20. ") and len(first.buttons) == 3
    for number, question in enumerate(SIPAS.questions(), start=1):
        current = citizen.received[-1]
        assert current.text.startswith(f"Câu {number}/20. ") or f"\n\nCâu {number}/20. " in current.text
        if question.type == "text":
            replies = await citizen.says("Cán bộ hướng dẫn rất tận tình.")
        elif question.allow_na:
            assert "0 (không áp dụng)" in current.text
            replies = await citizen.says("0")  # typed: không áp dụng is not on a button
        else:
            replies = await citizen.taps("|4" if question.type == "rating" else "|1")
        assert len(replies) == 1, [r.text for r in replies]
    assert citizen.received[-1].text.startswith("Đã ghi nhận ý kiến của Ông/Bà.\n\nCảm ơn Ông/Bà đã hoàn thành")
    assert all(m.token == "access-1" for m in citizen.received)
    assert all(len(m.buttons) <= 5 for m in citizen.received)
    responses, sessions, ratings = await stored(served.settings)
    [response] = responses
    assert response.channel == "zalo-oa" and sessions == 0
    assert ratings.iloc[0][["access_1", "procedure_3", "feedback_1"]].tolist() == [4, 0, 0]
    assert response.answers["submission_mode"] == 1 and response.comment == "Cán bộ hướng dẫn rất tận tình."
    # Anonymous: nothing of the Zalo user is kept with the answers.
    row = json.dumps({c.name: str(getattr(response, c.name)) for c in Response.__table__.columns})
    assert citizen.user not in row
    code, out, err = cli("report", "--by", "channel", "--min-n", "1", "--format", "json")
    assert code == 0, err
    [group] = json.loads(out)["rows"]
    assert (group["channel"], group["n"]) == ("zalo-oa", 1)


async def test_sipas_2023_by_typing_numbers_words_and_going_back(served):
    citizen = served.citizen("6142494823002")
    await citizen.send("follow")
    [greeting] = citizen.received
    assert greeting.text.startswith("Xin chào!") and "mã khảo sát" in greeting.text and not greeting.buttons
    _, first = await citizen.says(served.issued["sipas-2023"][1].display_code.lower().replace("-", " "))
    assert first.text.startswith("Câu 1/20.")
    await citizen.says("1")
    [reply] = await citizen.says("hài lòng")  # a label word
    assert reply.text.startswith("Ông/Bà chọn: 4 – Hài lòng\n\nCâu 3/20.")
    [back] = await citizen.says("quay lại")
    assert "Câu 2/20." in back.text and "Câu trả lời trước đó: Hài lòng" in back.text
    await citizen.says("5")
    for question in SIPAS.questions()[2:]:
        text = {"text": "Tốt", "choice": "2"}.get(question.type, "0" if question.allow_na else "3")
        await citizen.says(text)
    assert citizen.received[-1].text.startswith("Đã ghi nhận ý kiến")
    [response], _, ratings = await stored(served.settings)
    assert response.channel == "zalo-oa" and response.comment == "Tốt"
    assert ratings.iloc[0][["access_1", "access_2", "procedure_3"]].tolist() == [5, 3, 0]
    assert response.answers["harassment"] == 2


async def test_chat_now_greets_and_english_is_a_button(served):
    citizen = served.citizen("6142494823003")
    [greeting] = await citizen.send("user_click_chatnow")
    assert greeting.text.startswith("Xin chào!")
    await citizen.says(served.issued["sipas-quick"][0].display_code)
    replies = await citizen.taps("#l|en")
    assert any(r.text.startswith("Question 1/") for r in replies)
    assert "\nType: the option's number" in replies[-1].text and replies[-1].payloads[0].startswith("#a|")


async def test_an_image_or_a_sticker_gets_a_polite_note_and_the_question_again(served):
    citizen = served.citizen("6142494823004")
    [greeting] = await citizen.send("user_send_sticker")
    assert greeting.text.startswith("Xin chào!")  # no survey yet: the greeting
    await citizen.says(served.issued["sipas-quick"][1].display_code)
    question = citizen.received[-1]
    note, again = await citizen.send("user_send_image")
    assert note.text == "Xin lỗi, chúng tôi chỉ nhận câu trả lời bằng chữ hoặc số (hoặc bằng nút bấm, nếu có)."
    assert again.text == question.text and again.payloads == question.payloads


async def test_a_payload_we_never_sent_gets_the_stale_notice_and_the_question(served):
    citizen = served.citizen("6142494823005")
    await citizen.says(served.issued["sipas-quick"][2].display_code)
    question = citizen.received[-1]
    stale, again = await citizen.says("#a5")
    assert stale.text == "Nút này không còn dùng được."
    assert again.text == question.text
    older, again = await citizen.says("#a|no_such_question|5")  # ours, of an older question: refused
    assert older.text == "Câu hỏi này đã qua. Ông/Bà vui lòng trả lời câu hỏi hiện tại." and again.text == question.text


async def test_unfollow_closes_the_survey_quietly(served):
    citizen = served.citizen("6142494823006")
    await citizen.says(served.issued["sipas-2023"][2].display_code)
    _, sessions, _ = await stored(served.settings)
    assert sessions == 1
    assert await citizen.send("unfollow") == []
    _, sessions, _ = await stored(served.settings)
    assert sessions == 0
    # The invitation was freed: the same code starts the survey again.
    _, first = await citizen.says(served.issued["sipas-2023"][2].display_code)
    assert first.text.startswith("Câu 1/20.")
