"""The Telegram chat reads as a transcript with only the current question live: every answered question's message
is closed (buttons gone, the answer shown) whether the answer was typed or pressed; an old "Có, dừng khảo sát" is
refused; the command menu is registered in Vietnamese."""

from sqlalchemy import select
from test_telegram import CHAT, fake, polling, tg_settings, world  # noqa: F401  (fixtures)

from bot.storage.models import SurveySession


def live(server, chat):
    return [m for m in server.bot_messages(chat) if m.keyboard]


async def test_typed_and_pressed_answers_close_their_question(fake, polling):  # noqa: F811
    _, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    welcome, first = await fake.wait_for_bot_messages(CHAT, 2)
    fake.user_sends(CHAT, "4")  # typed
    second = (await fake.wait_for_bot_messages(CHAT, 3))[2]
    await fake.wait_for(lambda: not fake.message(CHAT, first.message_id).keyboard, what="question 1 closed")
    closed = fake.message(CHAT, first.message_id)
    assert closed.text.startswith("Câu 1/6.") and closed.text.endswith("✅ 4 · Hài lòng")
    assert fake.message(CHAT, welcome.message_id).keyboard == []  # the language buttons went too
    assert [m.message_id for m in live(fake, CHAT)] == [second.message_id]
    fake.user_presses(CHAT, second.message_id, "a|procedure_1|5")  # pressed
    third = (await fake.wait_for_bot_messages(CHAT, 4))[3]
    assert fake.message(CHAT, second.message_id).text.endswith("✅ 5 · Rất hài lòng")
    assert [m.message_id for m in live(fake, CHAT)] == [third.message_id]


async def test_the_latest_copy_of_a_repeated_question_shows_the_answer(fake, polling):  # noqa: F811
    _, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    first = (await fake.wait_for_bot_messages(CHAT, 2))[1]
    fake.user_sends(CHAT, "xyz")  # unclear: a hint, and the question again below it
    again = (await fake.wait_for_bot_messages(CHAT, 4))[3]
    assert again.text.startswith("Câu 1/6.") and again.keyboard
    fake.user_sends(CHAT, "4")
    await fake.wait_for_bot_messages(CHAT, 5)
    await fake.wait_for(lambda: not fake.message(CHAT, again.message_id).keyboard, what="the repeat closed")
    assert fake.message(CHAT, again.message_id).text.endswith("✅ 4 · Hài lòng")  # next to where the citizen typed
    assert fake.message(CHAT, first.message_id).keyboard == [] and "✅" not in fake.message(CHAT, first.message_id).text


async def test_yes_stop_from_an_old_confirmation_is_refused(fake, polling):  # noqa: F811
    services, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    await fake.wait_for_bot_messages(CHAT, 2)
    fake.user_sends(CHAT, "/huy")
    confirm = (await fake.wait_for_bot_messages(CHAT, 3))[2]
    assert [text for row in confirm.keyboard for text, _ in row] == ["Có, dừng khảo sát", "Không, tiếp tục"]
    fake.user_sends(CHAT, "không")  # typed: continue
    await fake.wait_for_bot_messages(CHAT, 5)
    assert fake.message(CHAT, confirm.message_id).keyboard == []  # the confirmation is closed
    late = fake.user_presses(CHAT, confirm.message_id, "y", check=False)  # a press that was on its way
    answer = await fake.wait_for(lambda: fake.answer_of(late))
    assert answer["text"] == "Câu hỏi này đã qua. Ông/Bà vui lòng trả lời câu hỏi hiện tại."
    async with services.db.reading() as session:
        row = (await session.scalars(select(SurveySession))).one()
    assert row.status == "active" and row.progress["status"] == "active"


async def test_the_command_menu_is_registered_in_vietnamese(fake, polling):  # noqa: F811
    [call] = fake.calls_to("setMyCommands")
    commands = {c["command"]: c["description"] for c in call.params["commands"]}
    assert commands["start"].startswith("Bắt đầu khảo sát") and commands["huy"] == "Dừng khảo sát"
    assert {"trogiup", "ngonngu", "moi", "thongke", "baocao"} <= set(commands)
