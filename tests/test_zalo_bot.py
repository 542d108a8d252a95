"""The Zalo Bot in long polling (no SIPAS_PUBLIC_URL), through the `serve` app, against the fake Zalo Bot API,
with the real service layer on a real SQLite file: a citizen answers sipas-quick by numbers."""

import asyncio
import json

import pytest
from fake_zalo_bot import FakeZaloBot
from sqlalchemy import select
from zalo_bot_world import HINT, THANKS, bot_settings, complete_quick, every_value, exchange, seed, serving

from adapters.zalo_bot.channel import ZaloBotChannel
from bot.config import Settings
from bot.errors import UserError
from bot.http.keys import CHANNELS
from bot.reports.dataset import load_ratings
from bot.services import open_services
from bot.storage.models import Response
from bot.survey import inbox

CHAT = "6ede9afa66b88fe6d6a9"


@pytest.fixture
async def fake():
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def polling(settings, fake):
    zb = bot_settings(settings, fake)
    issued = await seed(zb)
    async with serving(zb) as app:
        yield zb, issued, app


async def test_a_citizen_completes_sipas_quick_by_numbers(fake, polling, cli):
    zb, issued, _ = polling
    assert ("deleteWebhook", {}) in fake.calls  # getUpdates is refused while a webhook is set
    greeting = await exchange(fake, CHAT, "/start", "mã khảo sát")
    assert greeting == ["Xin chào! Đây là khảo sát sự hài lòng về sự phục vụ hành chính. Ông/Bà vui lòng gửi mã "
                        "khảo sát in trên giấy hẹn trả kết quả (8 ký tự, ví dụ ABCD-EFGH)."]
    seen = await complete_quick(fake, CHAT, issued[0].display_code)
    welcome, first = seen[0], seen[1]
    assert "Đăng ký đất đai" in welcome and "ẩn danh" in welcome
    lines = first.splitlines()
    assert lines[0].startswith("Câu 1/6. ")
    assert "  5 · Rất hài lòng" in lines and "  1 · Rất không hài lòng" in lines
    assert lines[-1].startswith(HINT + "số của phương án")
    assert "Ông/Bà chọn: 5 – Rất hài lòng" in seen  # nothing can be edited: the answer is echoed
    assert seen[-1].startswith(THANKS)
    assert all(len(text) <= 2000 for text in fake.messages(CHAT))
    async with open_services(zb) as services, services.db.reading() as session:
        [stored] = (await session.scalars(select(Response))).all()
        frame = await load_ratings(session, services.instrument("sipas-quick"))
    assert stored.channel == "zalo-bot"
    assert frame.iloc[0][["access_1", "procedure_1", "staff_1", "result_1", "feedback_1"]].tolist() == [5, 4, 3, 2, 0]
    # Anonymous: the Zalo id is nowhere in the database (the inbox row kept only its key).
    assert not [value for value in await every_value(zb) if CHAT in value]
    code, out, err = cli("report", "--survey", "sipas-quick", "--min-n", "1", "--by", "centre,channel",
                         "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)["rows"]
    assert (row["centre"], row["channel"], row["n"]) == ("HCC", "zalo-bot", 1)


async def test_an_image_or_a_sticker_gets_a_note_and_the_question_again(fake, polling):
    _, issued, _ = polling
    chat = "c0ffee0000000000aaaa"
    await exchange(fake, chat, issued[1].display_code, "Câu 1/6")
    for kind in ("image", "sticker", "unsupported"):
        note, question = await exchange(fake, chat, None, "Câu 1/6", kind=kind)
        assert note.startswith("Xin lỗi, chúng tôi chỉ nhận câu trả lời")  # a polite note, then the question
        assert question.startswith("Câu 1/6. ") and HINT in question
    await exchange(fake, chat, "5", "Câu 2/6")  # and the survey goes on


async def test_group_chats_are_ignored(fake, polling):
    _, issued, _ = polling
    await fake.send(CHAT, issued[2].display_code, kind="group")
    await exchange(fake, "someone-else-1234", "/start", "mã khảo sát")  # a later update was processed
    assert not fake.messages("a1b2c3d4e5f6a7b8c9d0") and not fake.messages(CHAT)


async def test_network_errors_while_polling_do_not_stop_the_bot(fake, polling):
    fake.drop_polls = 2
    for _ in range(300):  # the poll in flight ends, then two fail (with a backoff between)
        if fake.drop_polls == 0:
            break
        await asyncio.sleep(0.02)
    assert fake.drop_polls == 0
    await exchange(fake, "f00d00000000000000aa", "xin chào", "mã khảo sát", timeout=15)


async def test_an_alert_of_4500_characters_goes_out_in_pieces_of_2000_at_line_ends(fake, polling):
    _, _, app = polling
    [channel] = [c for c in app[CHANNELS] if isinstance(c, ZaloBotChannel)]
    lines = [f"Dòng {n:03d}: " + "ý kiến " * 10 for n in range(60)]
    await channel.send_text("alert-chat-000000001", "\n".join(lines))
    pieces = fake.messages("alert-chat-000000001")
    assert len("\n".join(lines)) > 4500
    assert len(pieces) == 3 and all(len(piece) <= 2000 for piece in pieces)
    assert [line for piece in pieces for line in piece.split("\n")] == lines  # cut between lines only


async def test_an_invalid_token_is_a_clear_error(settings, fake):
    zb = bot_settings(settings, fake, zalo_bot_token="999:wrong-token")
    channel = ZaloBotChannel(zb)
    async with open_services(zb) as services:
        with pytest.raises(UserError, match="SIPAS_ZALO_BOT_TOKEN"):
            await channel.start(services, lambda: None)
        await channel.stop()
        assert await inbox.pending(services.db, "zalo-bot") == 0


def test_webhook_mode_needs_a_secret_of_8_to_256_characters(settings, fake):
    for secret in (None, "short", "x" * 257):
        zb = Settings(**{**bot_settings(settings, fake).model_dump(), "public_url": "https://example.invalid",
                         "zalo_bot_webhook_secret": secret, "_env_file": None})
        with pytest.raises(UserError, match="SIPAS_ZALO_BOT_WEBHOOK_SECRET"):
            ZaloBotChannel(zb)


async def test_the_api_out_of_reach_at_start_is_retried_in_the_background(settings, tmp_path):
    from zalo_bot_world import free_port

    port = free_port()
    late = FakeZaloBot(port=port)
    zb = Settings(**{**settings.model_dump(), "zalo_bot_token": late.token,
                     "zalo_bot_api_url": f"http://127.0.0.1:{port}", "zalo_bot_poll_timeout": 1,
                     "web_survey": False, "_env_file": None})
    await seed(zb, count=1)
    async with serving(zb), late:  # the service starts although nothing answers; then the API comes up
        await exchange(late, "late000000000000aaaa", "hello", "mã khảo sát", timeout=15)


async def test_without_an_oa_alerts_to_a_zalo_user_go_through_the_bot(fake, polling, cli):
    _, issued, _ = polling
    code, _, err = cli("centre", "set", "hcc", "--alert-chat", "zalo:alert0000000000000001")
    assert code == 0, err
    await complete_quick(fake, "lowrating00000000001", issued[1].display_code)  # result_1 rated 2
    [alert] = await fake.wait_for_messages("alert0000000000000001", 1)
    assert alert.startswith("⚠️ Phản hồi cần chú ý – Trung tâm Phục vụ hành chính công tỉnh")
    assert "lowrating00000000001" not in alert


async def test_help_language_and_cancel_commands(fake, polling):
    _, issued, _ = polling
    chat = "commands000000000001"
    await exchange(fake, chat, issued[2].display_code, "Câu 1/6")
    *help_texts, question = await exchange(fake, chat, "/trogiup", "Câu 1/6")
    assert "5 là rất hài lòng" in help_texts[0] and question.startswith("Câu 1/6. ")  # help, then the question
    [languages] = await exchange(fake, chat, "/ngonngu", "English")
    assert languages.splitlines() == ["Chọn ngôn ngữ / Choose a language:", "  tiếng Việt", "  English"]
    english = await exchange(fake, chat, "English", "Question 1/6")
    assert any("anonymous" in text for text in english)
    confirm = await exchange(fake, chat, "/huy", "yes")
    assert confirm and "“yes”" in confirm[-1]
