"""The Telegram channel end to end: the real python-telegram-bot Application, over HTTP, against the fake Bot
API server, with the real service layer on a real SQLite file."""

import asyncio
import datetime as dt
import json
import os

os.environ.setdefault("PTB_TIMEDELTA", "true")

import pytest
from fake_telegram import FakeTelegram
from running_channel import start_channel
from sqlalchemy import func, select

from adapters.telegram.channel import TelegramChannel
from bot.config import Settings
from bot.services import open_services
from bot.storage.models import AppState, Response, SurveySession
from bot.storage.responses import build_response
from bot.survey import directory, invitations

CHAT = 5001


@pytest.fixture
async def fake():
    async with FakeTelegram(bot_username="sipas_test_bot") as server:
        yield server


@pytest.fixture
def tg_settings(settings, fake):
    root = fake.base_url.removesuffix("/bot")
    return Settings(**{**settings.model_dump(), "telegram_token": fake.token, "telegram_api_url": root,
                       "telegram_poll_timeout": 1, "_env_file": None})


@pytest.fixture
async def world(tg_settings):
    async with open_services(tg_settings) as services:
        async with services.db.transaction() as session:
            centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
            service = await directory.add_service(session, "dd-01", "Đăng ký đất đai")
            issued = await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                             survey="sipas-quick", count=2)
        yield services, issued


@pytest.fixture
async def polling(world, tg_settings):
    services, issued = world
    channel = await start_channel(TelegramChannel(tg_settings), services)
    yield services, issued, channel
    await channel.stop()


def keyboard_data(entry):
    return [data for row in entry.keyboard for _, data in row]


async def next_question(fake, chat, count):
    messages = await fake.wait_for_bot_messages(chat, count)
    return messages[-1]


async def test_deep_link_survey_with_buttons_in_vietnamese(fake, polling):
    services, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    welcome, question = (await fake.wait_for_bot_messages(CHAT, 2))[:2]
    assert welcome.text.startswith("Trung tâm Phục vụ hành chính công tỉnh – dịch vụ: Đăng ký đất đai.")
    assert "ẩn danh" in welcome.text and "khoảng 2 phút" in welcome.text
    assert [text for row in welcome.keyboard for text, _ in row] == ["Tiếng Việt", "English"]
    assert question.text.startswith("Câu 1/6. ")
    assert [text for row in question.keyboard for text, _ in row][:5] == [  # numbers first: typing is unambiguous
        "5 · Rất hài lòng", "4 · Hài lòng", "3 · Bình thường", "2 · Không hài lòng", "1 · Rất không hài lòng"]
    sent = 2
    for pick in ("a|access_1|5", "a|procedure_1|4", "a|staff_1|3", "a|result_1|4", "n|feedback_1"):
        current = fake.last_message(CHAT)
        fake.user_presses(CHAT, current.message_id, pick)
        sent += 1
        await fake.wait_for_bot_messages(CHAT, sent)
        edited = fake.message(CHAT, current.message_id)
        assert edited.keyboard == [] and "✅" in edited.text  # the transcript shows the chosen answer
    comment = fake.last_message(CHAT)
    assert comment.text.startswith("Câu 6/6. Ý kiến khác")
    fake.user_sends(CHAT, "Cán bộ nhiệt tình, số của tôi 0912 345 678")
    closing = await next_question(fake, CHAT, sent + 1)
    assert closing.text.startswith("Cảm ơn Ông/Bà đã hoàn thành khảo sát!")
    assert fake.message(CHAT, comment.message_id).text.startswith("Câu 6/6.")
    async with services.db.reading() as session:
        stored = (await session.scalars(select(Response))).one()
        assert await session.scalar(select(func.count()).select_from(SurveySession)) == 0
        username = await session.get(AppState, "telegram_bot_username")
    assert stored.channel == "telegram" and stored.ratings == bytes([5, 4, 3, 4, 0])
    assert stored.comment == "Cán bộ nhiệt tình, số của tôi [số điện thoại]"
    assert username.value == "sipas_test_bot"
    # Every button press got exactly one answerCallbackQuery.
    presses = [e for e in fake.transcript(CHAT) if e.kind == "press"]
    assert len(fake.calls_to("answerCallbackQuery", ok=True)) == len(presses) == 5


async def test_typed_code_and_typed_answers_in_english(fake, polling):
    _, issued, _ = polling
    fake.user_sends(CHAT, "hello")
    greeting = (await fake.wait_for_bot_messages(CHAT, 1))[0]
    assert "mã khảo sát" in greeting.text
    code = issued[1].code.lower()
    fake.user_sends(CHAT, f"{code[:4]} {code[4:]}")
    welcome = (await fake.wait_for_bot_messages(CHAT, 3))[1]
    fake.user_presses(CHAT, welcome.message_id, "l|en")
    english = await next_question(fake, CHAT, 5)
    assert english.text.startswith("Question 1/6. ")
    count = 5
    for typed in ("4", "satisfied", "Very satisfied", "2", "na", "skip"):
        fake.user_sends(CHAT, typed)
        count += 1
        last = await next_question(fake, CHAT, count)
    assert last.text.startswith("Thank you for completing the survey!")


async def test_stale_and_double_presses_record_nothing_twice(fake, polling):
    services, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    question = (await fake.wait_for_bot_messages(CHAT, 2))[1]
    first = fake.user_presses(CHAT, question.message_id, "a|access_1|5")
    await fake.wait_for_bot_messages(CHAT, 3)
    again = fake.user_presses(CHAT, question.message_id, "a|access_1|4", check=False)  # an old button
    answer = await fake.wait_for(lambda: fake.answer_of(again))
    assert "Câu hỏi này đã qua" in answer["text"]
    assert fake.answer_of(first) is not None
    forged = fake.user_presses(CHAT, question.message_id, "zzz", check=False)
    assert (await fake.wait_for(lambda: fake.answer_of(forged)))["text"] == "Nút này không còn dùng được."
    assert len(fake.bot_messages(CHAT)) == 3  # no new message for either
    async with services.db.reading() as session:
        row = (await session.scalars(select(SurveySession))).one()
    assert row.progress["answers"] == {"access_1": 5}


async def test_media_help_and_cancel(fake, polling):
    _, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    await fake.wait_for_bot_messages(CHAT, 2)
    fake.user_sends_sticker(CHAT)
    notice, repeat = (await fake.wait_for_bot_messages(CHAT, 4))[2:4]
    assert notice.text.startswith("Xin lỗi, chúng tôi chỉ nhận câu trả lời bằng chữ hoặc số")
    assert repeat.text.startswith("Câu 1/6.")
    fake.user_sends(CHAT, "/help")
    assert "quay lại" in (await fake.wait_for_bot_messages(CHAT, 6))[4].text
    fake.user_sends(CHAT, "/cancel")
    confirm = await next_question(fake, CHAT, 7)
    assert confirm.text.startswith("Ông/Bà có chắc muốn dừng khảo sát?")
    fake.user_presses(CHAT, confirm.message_id, "y")
    stopped = await next_question(fake, CHAT, 8)
    assert stopped.text.startswith("Đã dừng khảo sát.")
    fake.user_sends(CHAT, f"/start {issued[0].token}")  # a cancelled survey can start again
    restarted = await next_question(fake, CHAT, 10)
    assert restarted.text.startswith("Câu 1/6.")


async def test_used_and_unknown_codes(fake, polling):
    _, issued, _ = polling
    fake.user_sends(CHAT, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert "Mã khảo sát này không dùng được" in (await fake.wait_for_bot_messages(CHAT, 1))[0].text
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    count = 3
    await fake.wait_for_bot_messages(CHAT, count)
    for typed in ("5", "5", "5", "5", "5", "bỏ qua"):
        fake.user_sends(CHAT, typed)
        count += 1
        await fake.wait_for_bot_messages(CHAT, count)
    other_chat = CHAT + 1  # someone else with the same receipt, or the same citizen again
    fake.user_sends(other_chat, issued[0].display_code)
    used = (await fake.wait_for_bot_messages(other_chat, 1))[0]
    assert used.text.startswith("Mã khảo sát này không dùng được")


async def test_restart_in_the_middle_resumes(fake, world, tg_settings):
    services, issued = world
    channel = await start_channel(TelegramChannel(tg_settings), services)
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    question = (await fake.wait_for_bot_messages(CHAT, 2))[1]
    fake.user_presses(CHAT, question.message_id, "a|access_1|4")
    await fake.wait_for_bot_messages(CHAT, 3)
    await channel.stop()
    async with open_services(tg_settings) as fresh:  # a new process: new engine, new Application
        second = await start_channel(TelegramChannel(tg_settings), fresh)
        try:
            fake.user_sends(CHAT, "5")
            # The new process does not know which message asked question 2, so it echoes the typed answer.
            echo, after = (await fake.wait_for_bot_messages(CHAT, 5))[3:5]
            assert echo.text == "Ông/Bà chọn: 5 – Rất hài lòng"
            assert after.text.startswith("Câu 3/6.")
        finally:
            await second.stop()


async def test_alert_reaches_the_alert_chat_exactly_once(fake, world, tg_settings):
    services, issued = world
    async with services.db.transaction() as session:
        centre = await directory.find_centre(session, "HCC")
        centre.alert_chat = "-100777"
    fast = Settings(**{**tg_settings.model_dump(), "outbox_interval_seconds": 0.2, "_env_file": None})
    channel = await start_channel(TelegramChannel(fast), services)
    try:
        fake.user_sends(CHAT, f"/start {issued[0].token}")
        await fake.wait_for(lambda: len(fake.bot_messages(CHAT)) >= 2, timeout=20, what="the survey starts")
        count = 2
        for typed in ("1", "5", "2", "5", "không áp dụng", "Chờ lâu quá, gọi 0987654321"):
            fake.user_sends(CHAT, typed)
            count += 1
            await fake.wait_for_bot_messages(CHAT, count, timeout=10)
        alert = (await fake.wait_for_bot_messages(-100777, 1, timeout=20))[0]
        assert alert.text.splitlines()[:2] == ["⚠️ Phản hồi cần chú ý – Trung tâm Phục vụ hành chính công tỉnh",
                                              "Dịch vụ: Đăng ký đất đai"]
        assert "1/5 (Rất không hài lòng)" in alert.text and "2/5 (Không hài lòng)" in alert.text
        assert "Ý kiến: “Chờ lâu quá, gọi [số điện thoại]”" in alert.text
        await asyncio.sleep(1)  # several more outbox rounds: nothing is sent twice
        assert len(fake.bot_messages(-100777)) == 1
    finally:
        await channel.stop()


async def test_staff_invite_at_the_counter_works_for_a_citizen(fake, world, tg_settings):
    services, _ = world
    async with services.db.transaction() as session:
        await directory.add_staff(session, "HCC", "telegram", "9001", "staff", "Chị Lan")
    channel = await start_channel(TelegramChannel(tg_settings), services)
    try:
        stranger = 9002
        fake.user_sends(stranger, "/moi", user={"id": stranger, "is_bot": False, "first_name": "X"})
        refusal = (await fake.wait_for_bot_messages(stranger, 1))[0]
        assert refusal.text.startswith("Xin lỗi, lệnh này chỉ dành cho cán bộ")
        # The sender learns the id an admin needs, ready to paste into the command.
        assert f"sipas-bot staff add --centre MÃ_TRUNG_TÂM --telegram-id {stranger}" in refusal.text
        counter = 9001
        fake.user_sends(counter, "/moi DD-01", user={"id": counter, "is_bot": False, "first_name": "Lan"})
        await fake.wait_for(lambda: fake.uploads, what="the QR photo")
        photo = fake.uploads[0]
        assert photo.method == "sendPhoto" and photo.data.startswith(b"\x89PNG")
        lines = photo.caption.splitlines()
        assert lines[0] == "Phiếu khảo sát cho Trung tâm Phục vụ hành chính công tỉnh"
        assert lines[1] == "Dịch vụ: Đăng ký đất đai"
        link = next(line.removeprefix("Liên kết: ") for line in lines if line.startswith("Liên kết: "))
        assert link.startswith("https://t.me/sipas_test_bot?start=")
        fake.user_sends(CHAT, "/start " + link.split("start=")[1])  # the citizen scans it
        welcome = (await fake.wait_for_bot_messages(CHAT, 2))[0]
        assert "Đăng ký đất đai" in welcome.text
        fake.user_sends(counter, "/moi NOPE", user={"id": counter, "is_bot": False, "first_name": "Lan"})
        wrong = await fake.wait_for(lambda: [m for m in fake.bot_messages(counter) if "NOPE" in (m.text or "")])
        assert "Không có dịch vụ với mã “NOPE”" in wrong[0].text
    finally:
        await channel.stop()


async def test_staff_stats_and_admin_report(fake, world, tg_settings):
    services, _ = world
    instrument = services.instrument("sipas-2023")
    today = services.local_date(dt.datetime.now(dt.UTC))
    async with services.db.transaction() as session:
        await directory.add_staff(session, "HCC", "telegram", "9101", "staff", None)
        await directory.add_staff(session, "HCC", "telegram", "9102", "admin", None)
        centre = await directory.find_centre(session, "HCC")
        for _ in range(2):
            session.add(build_response(instrument, dict.fromkeys(instrument.criteria(), 5), centre_id=centre.id,
                                       service_id=None, channel="telegram", submitted_on=today))
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=None, survey="sipas-2023",
                                         count=4)
        await invitations.complete(session, issued[0].id, dt.datetime.now(dt.UTC))
    channel = await start_channel(TelegramChannel(tg_settings), services)
    try:
        def send(user, text):
            fake.user_sends(user, text, user={"id": user, "is_bot": False, "first_name": "Cán bộ"})

        send(9101, "/thongke")
        few = (await fake.wait_for_bot_messages(9101, 1))[0].text.splitlines()
        assert few[0] == "Thống kê Trung tâm Phục vụ hành chính công tỉnh"
        assert few[2:] == ["Số phiếu: 2", "Chỉ số SIPAS: chưa đủ mẫu (cần ít nhất 30 phiếu)",
                           "Tỷ lệ phản hồi: 25,00% (1/4 lời mời)"]
        async with services.db.transaction() as session:
            for value in [5] * 14 + [2] * 14:  # now 16 satisfied and 14 dissatisfied respondents
                session.add(build_response(instrument, dict.fromkeys(instrument.criteria(), value),
                                           centre_id=centre.id, service_id=None, channel="paper",
                                           submitted_on=today))
        send(9101, "/stats")
        lines = (await fake.wait_for_bot_messages(9101, 2))[1].text.splitlines()
        assert lines[2] == "Số phiếu: 30"
        assert lines[3].startswith("Chỉ số SIPAS: 53,33% (khoảng tin cậy 95%: ")
        assert "• Tiếp cận dịch vụ: 53,33%" in lines
        assert lines[-1] == "Tỷ lệ phản hồi: 25,00% (1/4 lời mời)"
        send(9101, "/baocao")
        refused = (await fake.wait_for_bot_messages(9101, 3))[2]
        assert refused.text == "Xin lỗi, báo cáo chỉ dành cho quản trị viên đã được đăng ký."
        send(9102, "/baocao tháng")
        await fake.wait_for(lambda: [u for u in fake.uploads if u.method == "sendDocument"], what="the report")
        document = next(u for u in fake.uploads if u.method == "sendDocument")
        assert document.filename.startswith("bao-cao-sipas-month-") and document.data[:2] == b"PK"
        assert document.caption == "Báo cáo SIPAS theo tháng (tất cả trung tâm)."
        send(9102, "/baocao năm")
        assert (await fake.wait_for_bot_messages(9102, 2))[1].text == "Cú pháp: /baocao quý hoặc /baocao tháng."
    finally:
        await channel.stop()


async def test_a_telegram_response_appears_in_the_report(fake, polling, tg_settings, cli):
    _, issued, _ = polling
    fake.user_sends(CHAT, f"/start {issued[0].token}")
    count = 2
    await fake.wait_for_bot_messages(CHAT, count)
    for typed in ("5", "4", "4", "5", "không áp dụng", "bỏ qua"):
        fake.user_sends(CHAT, typed)
        count += 1
        await fake.wait_for_bot_messages(CHAT, count)
    code, out, err = cli("report", "--survey", "sipas-quick", "--min-n", "1", "--by", "centre,channel",
                         "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)["rows"]
    assert (row["centre"], row["channel"], row["n"], row["sipas"]) == ("HCC", "telegram", 1, 100.0)
    assert row["criteria"]["feedback_1"]["n"] == 0
