"""The fake Telegram server (tests/fake_telegram.py) against the real python-telegram-bot over HTTP."""

import asyncio
import contextlib
import io
import json
import time

import pytest
from aiohttp import ClientSession, web
from fake_telegram import FakeTelegram
from fake_telegram_model import SECRET_HEADER
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

TOKEN = "123456:TEST"
SECRET = "s3cret_token-1"
CHAT = 4242


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch):
    # Without this, constructing RetryAfter emits PTBDeprecationWarning, which filterwarnings=error turns into the
    # exception PTB raises instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake():
    async with FakeTelegram(token=TOKEN, bot_username="sipas_test_bot") as server:
        yield server


def build_app(fake: FakeTelegram, *, webhook: bool = False, rate_limiter: AIORateLimiter | None = None) -> Application:
    builder = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url)
    if webhook:
        builder = builder.updater(None)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()

    async def start(update, context):
        keyboard = [[InlineKeyboardButton("Yes", callback_data="q1:yes"),
                     InlineKeyboardButton("No", callback_data="q1:no")]]
        await update.message.reply_text(f"start:{','.join(context.args)}", reply_markup=InlineKeyboardMarkup(keyboard))

    async def echo(update, context):
        await update.message.reply_text(f"echo:{update.message.text}")

    async def press(update, context):
        await update.callback_query.answer(f"got {update.callback_query.data}")
        await update.callback_query.edit_message_text(f"chose {update.callback_query.data}")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(press))
    return app


@contextlib.asynccontextmanager
async def webhook_receiver(app: Application):
    """A tiny aiohttp server that checks the secret and puts updates on the application's queue."""
    async def hook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response()

    web_app = web.Application()
    web_app.router.add_post("/hook", hook)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


async def converse(fake: FakeTelegram) -> None:
    """/start with a payload, an echo, and a button press that is answered and edits the message."""
    fake.user_sends(CHAT, "/start TOKEN_abc")
    [reply] = await fake.wait_for_bot_messages(CHAT, 1)
    assert reply.text == "start:TOKEN_abc"
    assert reply.keyboard == [[("Yes", "q1:yes"), ("No", "q1:no")]]
    assert reply.message["from"]["username"] == "sipas_test_bot" and reply.message["chat"]["type"] == "private"

    fake.user_sends(CHAT, "xin chào")
    await fake.wait_for_bot_messages(CHAT, 2)
    assert fake.last_message(CHAT).text == "echo:xin chào"

    query_id = fake.user_presses(CHAT, reply.message_id, "q1:yes")
    await fake.wait_for(lambda: fake.message(CHAT, reply.message_id).text == "chose q1:yes")
    edited = fake.message(CHAT, reply.message_id)
    assert edited.texts == ["start:TOKEN_abc", "chose q1:yes"]
    assert edited.keyboard == []  # editMessageText without reply_markup drops the keyboard, as on Telegram
    assert fake.answer_of(query_id) == {"text": "got q1:yes"}
    answers = [c for c in fake.calls_to("answerCallbackQuery") if c.params["callback_query_id"] == query_id]
    assert len(answers) == 1
    kinds = [e.kind for e in fake.transcript(CHAT)]
    assert kinds == ["user", "bot", "user", "bot", "press"]


async def test_polling_round_trip(fake):
    app = build_app(fake)
    async with app:
        assert fake.calls[0].method == "getMe" and app.bot.username == "sipas_test_bot"
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            await converse(fake)
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.pending_updates == []  # the updater's last getUpdates confirmed everything
    assert {d.via for d in fake.deliveries} == {"poll"}
    assert all(d.reply_latency is not None for d in fake.deliveries)


async def test_webhook_round_trip_secret_and_conflict(fake):
    app = build_app(fake, webhook=True)
    async with webhook_receiver(app) as url, app:
        await app.start()
        try:
            assert await app.bot.set_webhook(url, secret_token=SECRET, allowed_updates=["message", "callback_query"])
            await converse(fake)
            assert [d.status for d in fake.deliveries] == [200, 200, 200]
            assert all(d.via == "webhook" and d.secret == SECRET for d in fake.deliveries)
            assert all(0 <= d.response_time < 5 and 0 <= d.reply_latency < 5 for d in fake.deliveries)

            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates()

            fake.webhook_secret_mode = "wrong"
            fake.user_sends(CHAT, "lost?")
            await fake.wait_for(lambda: fake.deliveries[-1].status == 403)
            info = await app.bot.get_webhook_info()
            assert info.pending_update_count == 1 and "403" in info.last_error_message
            fake.webhook_secret_mode = "missing"
            fake.redeliver()
            await fake.wait_for(lambda: len(fake.deliveries) == 5 and fake.deliveries[-1].status == 403)
            assert fake.deliveries[-1].secret is None

            fake.webhook_secret_mode = "correct"
            fake.redeliver()
            await fake.wait_for(lambda: fake.last_message(CHAT).text == "echo:lost?")
            assert fake.pending_updates == []
            assert await app.bot.delete_webhook()
            assert fake.webhook is None
        finally:
            await app.stop()


async def test_webhook_auto_retry():
    async with FakeTelegram(token=TOKEN, webhook_auto_retry=True, webhook_retry_delay=0.01) as fake:
        app = build_app(fake, webhook=True)
        async with webhook_receiver(app) as url, app:
            await app.start()
            try:
                fake.webhook_secret_mode = "missing"
                await app.bot.set_webhook(url, secret_token=SECRET)
                fake.user_sends(CHAT, "retry me")
                await fake.wait_for(lambda: len(fake.deliveries) >= 2)
                fake.webhook_secret_mode = "correct"
                await fake.wait_for(lambda: fake.last_message(CHAT) and fake.last_message(CHAT).text == "echo:retry me")
                assert fake.deliveries[0].status == 403 and fake.deliveries[-1].status == 200
            finally:
                await app.stop()


async def test_get_updates_offset_and_long_poll(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        first = fake.user_sends(1, "a")["update_id"]
        fake.user_sends(1, "b")
        fake.user_sends_sticker(1)
        fake.user_sends_photo(1, b"img", caption="look")
        fake.user_sends_voice(1)
        fake.user_sends_document(1, b"doc", filename="a.pdf")
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == list(range(first, first + 6))
        assert updates[2].message.sticker and updates[3].message.photo and updates[3].message.caption == "look"
        assert updates[4].message.voice and updates[5].message.document.file_name == "a.pdf"
        assert [u.update_id for u in await bot.get_updates(offset=first + 5)] == [first + 5]
        assert len(fake.pending_updates) == 1
        assert await bot.get_updates(offset=first + 6) == ()

        started = time.monotonic()
        assert await bot.get_updates(offset=first + 6, timeout=1) == ()
        assert time.monotonic() - started >= 0.9

        async def later():
            await fake.wait_for_call("getUpdates", 5)
            fake.user_sends(1, "/start")

        started = time.monotonic()
        task = asyncio.create_task(later())
        [update] = await bot.get_updates(offset=first + 6, timeout=3)
        await task
        assert time.monotonic() - started < 2
        assert update.message.text == "/start" and update.message.entities[0].type == "bot_command"


async def test_poll_conflict_allowed_updates_and_drop_pending(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as bot, Bot(TOKEN, base_url=fake.base_url) as second_instance:
        first = asyncio.create_task(bot.get_updates(timeout=3))  # PTB's getUpdates pool has one connection
        await fake.wait_for_call("getUpdates")
        assert await second_instance.get_updates() == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first

        markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        sent = await bot.send_message(CHAT, "pick", reply_markup=markup)
        fake.user_presses(CHAT, sent.message_id, "a")
        fake.user_sends(CHAT, "typed")
        [update] = await bot.get_updates(allowed_updates=["message"])
        assert update.message.text == "typed" and len(fake.pending_updates) == 1

        with pytest.raises(BadRequest, match=r"(?i)secret token"):
            await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="has space")
        assert await bot.set_webhook("http://127.0.0.1:9/hook", drop_pending_updates=True)
        assert fake.pending_updates == [] and (await bot.get_webhook_info()).url == "http://127.0.0.1:9/hook"
        assert await bot.delete_webhook()


async def test_retry_after_raises_and_rate_limiter_waits(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        fake.fail_next("sendMessage", 429, retry_after=1)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "hi")
        assert caught.value.retry_after.total_seconds() == 1
        assert fake.failures[-1].method == "sendMessage" and fake.failures[-1].status == 429
        assert fake.bot_messages(CHAT) == []

    app = build_app(fake, rate_limiter=AIORateLimiter(max_retries=1))
    async with app:
        fake.fail_next("sendMessage", 429, retry_after=1)
        started = time.monotonic()
        message = await app.bot.send_message(CHAT, "after the pause")
        assert time.monotonic() - started >= 1.0
        assert message.text == "after the pause" and fake.last_message(CHAT).text == "after the pause"
        assert [c.status for c in fake.calls_to("sendMessage")] == [429, 429, 200]


async def test_server_errors_are_network_errors(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        fake.fail_next("sendMessage", 500, count=2)
        fake.fail_next("SENDMESSAGE", 502)
        for expected in ("Internal Server Error", "Internal Server Error", "Bad Gateway"):
            with pytest.raises(NetworkError, match=expected) as caught:
                await bot.send_message(CHAT, "x")
            assert type(caught.value) is NetworkError
        assert len(fake.failures) == 3
        assert (await bot.send_message(CHAT, "x")).message_id == 1


async def test_uploads_are_recorded_and_downloadable(fake):
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
        photo = await bot.send_photo(CHAT, photo=b"\x89PNG chart", caption="Kết quả", filename="chart.png")
        document = await bot.send_document(CHAT, document=io.BytesIO(b"a,b\n1,2\n"), filename="report.csv")
        assert photo.photo[-1].file_size == 10 and photo.caption == "Kết quả"
        assert document.document.file_name == "report.csv"
        first, second = fake.uploads
        assert (first.method, first.filename, first.data, first.size, first.caption) == (
            "sendPhoto", "chart.png", b"\x89PNG chart", 10, "Kết quả")
        assert (second.method, second.filename, second.data, second.chat_id) == (
            "sendDocument", "report.csv", b"a,b\n1,2\n", CHAT)
        assert fake.calls_to("sendDocument")[0].files["document"].data == b"a,b\n1,2\n"
        file = await bot.get_file(document.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"
        assert [e.text for e in fake.bot_messages(CHAT)] == ["Kết quả", None]


async def test_validation_errors(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        too_long_data = "câu_hỏi_" * 8  # 48 characters, 64+ bytes of UTF-8
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=too_long_data)]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(CHAT, "q", reply_markup=markup)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(CHAT, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(CHAT, "<b>bold", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
            await bot.send_message(CHAT, "*Câu 1.* Bạn hài lòng?", parse_mode="MarkdownV2")
        html = await bot.send_message(CHAT, "<b>1 &lt; 2</b>", parse_mode="HTML")
        assert html.text == "1 < 2"

        ok_markup = InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data="q1:a1")]])
        sent = await bot.send_message(CHAT, "123", reply_markup=ok_markup)
        assert sent.text == "123" and fake.calls_to("sendMessage")[-1].params["text"] == "123"
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("123", CHAT, sent.message_id, reply_markup=ok_markup)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("new", CHAT, 999)
        edited = await bot.edit_message_reply_markup(CHAT, sent.message_id)
        assert edited.reply_markup is None and fake.message(CHAT, sent.message_id).keyboard == []

        with pytest.raises(ValueError, match="no button"):
            fake.user_presses(CHAT, sent.message_id, "q1:a1")  # the keyboard is gone
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=ok_markup)
        query_id = fake.user_presses(CHAT, sent.message_id, "q1:a1")
        assert await bot.answer_callback_query(query_id, text="Cảm ơn", show_alert=True)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query_id)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("never-issued")
        assert fake.answer_of(query_id) == {"text": "Cảm ơn", "show_alert": True}

        assert await bot.delete_message(CHAT, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(CHAT, sent.message_id)
        fake.block(CHAT)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(CHAT, "hello?")


async def test_commands_chat_action_and_unknown_method(fake):
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        assert await bot.get_my_commands() == ()
        assert await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Trợ giúp")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        assert await bot.send_chat_action(CHAT, "typing")
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass


async def test_raw_wire_format(fake):
    async with ClientSession() as http:
        async def call(path, **kwargs):
            async with http.request(kwargs.pop("method", "POST"), f"{fake.base_url}{path}", **kwargs) as response:
                return response.status, await response.json()

        assert (await call(f"{TOKEN}/GETME", method="GET"))[1]["result"]["username"] == "sipas_test_bot"
        assert (await call(f"{TOKEN}/getme"))[1]["result"]["id"] == 123456
        assert await call("1:NOPE/getMe") == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        assert await call(f"{TOKEN}/fly") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
        fake.fail_next("sendMessage", 429, retry_after=5)
        assert await call(f"{TOKEN}/sendMessage", data={"chat_id": "1", "text": "x"}) == (429, {
            "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5}})
        markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
        status, body = await call(f"{TOKEN}/sendMessage", data={"chat_id": "7", "text": "42", "reply_markup": markup})
        assert status == 200 and body["result"]["text"] == "42" and body["result"]["reply_markup"] == json.loads(markup)
        status, body = await call(f"{TOKEN}/sendMessage", json={"chat_id": 7, "text": "json body"})
        assert status == 200 and body["result"]["message_id"] == 2
        status, body = await call(f"{TOKEN}/sendMessage", params={"chat_id": "7", "text": "query string"})
        assert status == 200 and fake.last_message(7).text == "query string"


async def test_close_ends_a_pending_long_poll():
    fake = await FakeTelegram(token=TOKEN).start()
    async with ClientSession() as http:
        async def long_poll():
            async with http.post(f"{fake.base_url}{TOKEN}/getUpdates", data={"timeout": "30"}) as response:
                return await response.json()

        task = asyncio.create_task(long_poll())
        await fake.wait_for_call("getUpdates")
        started = time.monotonic()
        await fake.close()
        assert await task == {"ok": True, "result": []}
        assert time.monotonic() - started < 2
