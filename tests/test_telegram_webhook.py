"""Telegram in webhook mode, through the real `sipas-bot serve` aiohttp app: the fake Bot API POSTs updates to
/webhooks/telegram with the secret header; forged calls get 401; an update is acknowledged after it is processed."""

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")

import socket

import pytest
from aiohttp import ClientSession, web
from fake_telegram import FakeTelegram
from sqlalchemy import select

from adapters.telegram.channel import TelegramChannel
from bot.config import Settings
from bot.errors import UserError
from bot.http.app import create_app
from bot.reports.dataset import load_ratings
from bot.services import open_services
from bot.storage.models import Response
from bot.survey import directory, invitations
from surveys.loader import load_builtin

SECRET = "s3cret_Token-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def fake():
    async with FakeTelegram(bot_username="sipas_test_bot") as server:
        yield server


@pytest.fixture
async def served(settings, fake):
    port = free_port()
    hook_settings = Settings(**{
        **settings.model_dump(), "telegram_token": fake.token, "telegram_api_url": fake.base_url.removesuffix("/bot"),
        "public_url": f"http://127.0.0.1:{port}", "telegram_webhook_secret": SECRET, "_env_file": None})
    async with open_services(hook_settings) as services, services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        issued = {survey: await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                                  survey=survey, count=2)
                  for survey in ("sipas-2023", "sipas-quick")}
    runner = web.AppRunner(create_app(hook_settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield hook_settings, issued
    await runner.cleanup()


async def post_webhook(settings, headers=None, **request):
    """POST to the bot's webhook as Telegram does (with the secret); (status, JSON body)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, **(headers or {})}
    async with ClientSession() as http, http.post(f"{settings.public_url}/webhooks/telegram", headers=headers,
                                                  **request) as response:
        return response.status, await response.json()


async def complete(fake, chat, answers, start_count):
    """Answer each question as it comes: a button when the answer is one, else typed text."""
    count = start_count
    for answer in answers:
        current = fake.last_message(chat)
        if answer.startswith(("a|", "n|", "s|")):
            code = current.keyboard[0][0][1].split("|")[1]
            fake.user_presses(chat, current.message_id, answer.replace("*", code))
        else:
            fake.user_sends(chat, answer)
        count += 1
        await fake.wait_for_bot_messages(chat, count)
    return fake.last_message(chat)


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_sipas_2023_from_a_deep_link_through_the_webhook(fake, served, language):
    settings, issued = served
    assert fake.webhook["url"] == f"{settings.public_url}/webhooks/telegram"
    chat = 7001
    fake.user_sends(chat, f"/start {issued['sipas-2023'][0].token}")
    welcome = (await fake.wait_for_bot_messages(chat, 2))[0]
    count = 2
    if language == "en":
        fake.user_presses(chat, welcome.message_id, "l|en")
        count = 4
        await fake.wait_for_bot_messages(chat, count)
    instrument = load_builtin()["sipas-2023"]
    questions = instrument.questions()
    answers = ["a|*|1"]  # submission_mode: in person
    answers += [("n|*" if q.allow_na else "a|*|4") for q in questions if q.type == "rating"]
    answers += ["a|*|1", "a|*|1", "Tốt" if language == "vi" else "Good"]
    last = await complete(fake, chat, answers, count)
    thanks = "Cảm ơn Ông/Bà đã hoàn thành khảo sát!" if language == "vi" else "Thank you for completing the survey!"
    assert last.text.startswith(thanks)
    # Every update was acknowledged with 200, and only after the bot had replied to it.
    hooks = [d for d in fake.deliveries if d.via == "webhook"]
    await fake.wait_for(lambda: all(d.status is not None for d in hooks), what="every webhook answered")
    assert hooks and all(d.status == 200 for d in hooks), [(d.update_id, d.status, d.error) for d in hooks
                                                           if d.status != 200]
    assert all(d.reply_at is not None and d.reply_at <= d.responded_at for d in hooks)
    async with open_services(settings) as services, services.db.reading() as session:
        stored = (await session.scalars(select(Response))).one()
        frame = await load_ratings(session, instrument)
    assert stored.channel == "telegram" and stored.answers["submission_mode"] == 1
    assert frame.iloc[0][["access_1", "feedback_1"]].tolist() == [4, 0]


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_sipas_quick_from_a_typed_code_through_the_webhook(fake, served, language):
    _, issued = served
    chat = 7002
    code = issued["sipas-quick"][0].display_code
    fake.user_sends(chat, "/start")
    await fake.wait_for_bot_messages(chat, 1)
    fake.user_sends(chat, code)
    count = 3
    if language == "en":
        fake.user_sends(chat, "/lang")
        chooser = (await fake.wait_for_bot_messages(chat, 4))[3]
        fake.user_presses(chat, chooser.message_id, "l|en")
        count = 6
    await fake.wait_for_bot_messages(chat, count)
    last = await complete(fake, chat, ["5", "4", "hài lòng" if language == "vi" else "satisfied", "3", "bỏ qua",
                                       "s|*"], count)
    assert last.text.startswith("Cảm ơn" if language == "vi" else "Thank you")


async def test_forged_webhook_calls_are_refused_and_change_nothing(fake, served):
    _, issued = served
    fake.webhook_secret_mode = "wrong"
    fake.user_sends(7003, f"/start {issued['sipas-quick'][1].token}")
    await fake.wait_for(lambda: any(d.status == 401 for d in fake.deliveries), what="a 401")
    fake.webhook_secret_mode = "missing"
    fake.redeliver()
    await fake.wait_for(lambda: sum(d.status == 401 for d in fake.deliveries) == 2, what="a second 401")
    assert fake.bot_messages(7003) == []
    fake.webhook_secret_mode = "correct"
    fake.redeliver()  # Telegram keeps the update until it is accepted
    await fake.wait_for_bot_messages(7003, 2)


async def test_a_429_in_the_middle_is_waited_out(fake, served):
    _, issued = served
    chat = 7004
    fake.user_sends(chat, f"/start {issued['sipas-quick'][1].token}")
    question = (await fake.wait_for_bot_messages(chat, 2))[1]
    fake.fail_next("sendMessage", status=429, retry_after=1)
    fake.user_presses(chat, question.message_id, "a|access_1|5")
    following = (await fake.wait_for_bot_messages(chat, 3, timeout=10))[2]
    assert following.text.startswith("Câu 2/6.")
    assert any(c.status == 429 for c in fake.calls_to("sendMessage"))


def test_webhook_mode_needs_a_secret(settings):
    no_secret = Settings(**{**settings.model_dump(), "telegram_token": "1:X", "public_url": "https://example.org",
                            "_env_file": None})
    with pytest.raises(UserError, match="needs SIPAS_TELEGRAM_WEBHOOK_SECRET"):
        TelegramChannel(no_secret)


async def test_a_button_press_delivered_again_changes_nothing_and_is_acknowledged(fake, served):
    """Telegram resends an update whose 200 it did not see; by then the press's query is too old to answer."""
    settings, issued = served
    chat = 7005
    fake.user_sends(chat, f"/start {issued['sipas-quick'][1].token}")
    question = (await fake.wait_for_bot_messages(chat, 2))[1]
    query_id = fake.user_presses(chat, question.message_id, "a|access_1|5")
    await fake.wait_for_bot_messages(chat, 3)
    await fake.wait_for(lambda: fake.deliveries[-1].status == 200, what="the press acknowledged")
    press = {"update_id": fake.deliveries[-1].update_id, "callback_query": {
        "id": query_id, "from": {"id": chat, "is_bot": False, "first_name": "Lan"}, "message": question.message,
        "chat_instance": str(chat), "data": "a|access_1|5"}}
    before = [(m.message_id, m.text) for m in fake.bot_messages(chat)]
    status, body = await post_webhook(settings, json=press)
    assert status == 200, body
    # No error message: the current question once more (its reply might have been lost), nothing recorded twice.
    after = [(m.message_id, m.text) for m in fake.bot_messages(chat)]
    assert after[:len(before)] == before and [text for _, text in after[len(before):]] == [before[-1][1]]
    refused = fake.calls_to("answerCallbackQuery", ok=False)
    assert [c.params["callback_query_id"] for c in refused] == [query_id]  # the late answer: refused, and ignored


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "{not json", '{"update_id": "x"}'])
async def test_a_webhook_body_that_is_not_an_update_gets_400(served, body):
    settings, _ = served
    status, answer = await post_webhook(settings, data=body, headers={"Content-Type": "application/json"})
    assert status == 400 and answer["error"] == "not a Telegram update"
