"""Logs carry no secret and no citizen: a whole Telegram run captured at DEBUG, every logger, is searched for the
token, the webhook secret, the invitation token and code, the comment and the chat id (bare or as a SHA-256)."""

import hashlib
import logging
import os
import socket

os.environ.setdefault("PTB_TIMEDELTA", "true")

import pytest
from aiohttp import web
from fake_telegram import FakeTelegram
from running_channel import start_channel

from adapters.telegram.channel import TelegramChannel
from adapters.telegram.sending import chat_tag
from bot import logs
from bot.config import Settings
from bot.http.app import create_app
from bot.services import open_services
from bot.survey import directory, invitations

TOKEN = "7301234567:AAHk3xQ9vZ_t-2LmN8pR4sT6uV0wY1zB3cD"
SECRET = "hook_Secret-9f8e7d6c"
CHAT, CODE_CHAT = 734591826, 734591827
COMMENT = "Cán bộ tận tình lắm, cảm ơn chị Hoa"
NOISY = ("telegram", "httpx", "httpcore", "aiohttp", "asyncio", "sqlalchemy", "aiosqlite", "bot", "adapters")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def answer_all(fake, chat, count, typed):
    for text in typed:
        fake.user_sends(chat, text)
        count += 1
        await fake.wait_for_bot_messages(chat, count, timeout=20)
    return fake.last_message(chat)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_whole_run_at_debug_logs_no_secret_and_no_citizen(settings, caplog, mode):
    caplog.set_level(logging.DEBUG)
    for name in NOISY:  # every library at DEBUG too, whatever its own default
        caplog.set_level(logging.DEBUG, logger=name)
    port = free_port()
    async with FakeTelegram(TOKEN, bot_username="sipas_test_bot") as fake:
        tg = Settings(**{**settings.model_dump(), "telegram_token": TOKEN, "telegram_webhook_secret": SECRET,
                         "telegram_api_url": fake.base_url.removesuffix("/bot"), "telegram_poll_timeout": 1,
                         "outbox_interval_seconds": 0.2, "_env_file": None,
                         **({"public_url": f"http://127.0.0.1:{port}"} if mode == "webhook" else {})})
        async with open_services(tg) as services:
            logs.install(tg, services.secret_key)
            async with services.db.transaction() as session:
                centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
                centre.alert_chat = "-100777"
                issued = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                                 survey="sipas-quick", count=2)
            if mode == "webhook":
                runner = web.AppRunner(create_app(tg, outbox_hold=(0.0, 0.05)))
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", port).start()
                stop = runner.cleanup
            else:
                channel = await start_channel(TelegramChannel(tg), services)
                stop = channel.stop
            try:
                fake.user_sends(CHAT, f"/start {issued[0].token}")
                await fake.wait_for_bot_messages(CHAT, 2, timeout=20)
                last = await answer_all(fake, CHAT, 2, ["1", "5", "2", "5", "không áp dụng", COMMENT])
                assert last.text.startswith("Cảm ơn Ông/Bà đã hoàn thành khảo sát!")
                fake.user_sends(CODE_CHAT, issued[1].display_code)
                await fake.wait_for_bot_messages(CODE_CHAT, 2, timeout=20)
                await answer_all(fake, CODE_CHAT, 2, ["5", "5", "5", "5", "5", "bỏ qua"])
                await fake.wait_for_bot_messages(-100777, 1, timeout=20)  # the alert went out too
                logging.getLogger("adapters.telegram.sending").warning("chat %s, the way our lines name a chat",
                                                                       chat_tag(CHAT))
            finally:
                await stop()
    text = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert len(caplog.records) > 50 and "sendMessage" in text  # the libraries' debug output was captured
    assert chat_tag(CHAT) in text
    forbidden = {"token": TOKEN, "token secret part": TOKEN.split(":")[1], "webhook secret": SECRET,
                 "secret key": services.secret_key.decode(), "invitation token": issued[0].token,
                 "code": issued[1].code, "display code": issued[1].display_code, "comment": COMMENT,
                 "comment start": COMMENT[:15], "chat id": str(CHAT), "code chat id": str(CODE_CHAT),
                 "sha256 of the chat id": hashlib.sha256(str(CHAT).encode()).hexdigest()[:10]}
    leaked = {what: value for what, value in forbidden.items() if value in text}
    assert not leaked, leaked


def test_the_redactor_removes_known_secrets_and_shapes_and_keys_chat_refs():
    settings = Settings(database_url="postgresql+asyncpg://sipas:pa55-w0rd!@db/sipas", secret_key="k" * 40,
                        telegram_token="123:short", telegram_webhook_secret="hooky-secret", _env_file=None)
    redactor = logs.install(settings, b"k" * 40, logging.getLogger("test.redactor.none"))
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: POST %s %s", (
        "https://api.telegram.org/bot123:short/sendMessage", "password pa55-w0rd! secret hooky-secret"), None)
    redactor.filter(record)
    message = record.getMessage()
    assert message == "HTTP Request: POST https://api.telegram.org/bot[redacted]/sendMessage password [redacted] " \
                      "secret [redacted]"
    assert logs.redact("token 5000000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA here") == "token [redacted] here"
    assert logs.redact("Update(message=Message(chat=Chat(id=42), text='/start abc'))") == \
        "Update(message=Message(chat=Chat(id=[redacted]), text='[redacted]'))"
    assert logs.redact("{'chat_id': -1001234, 'text': \"it's ABCD-EFGH\"}") == \
        "{'chat_id': [redacted], 'text': '[redacted]'}"
    first = logs.chat_ref("telegram", 42)
    assert first != hashlib.sha256(b"42").hexdigest()[:12] and len(first) == 12
    logs.install(settings, b"j" * 40, logging.getLogger("test.redactor.none"))
    assert logs.chat_ref("telegram", 42) != first  # keyed: another key, another reference


def test_sql_values_and_rows_are_not_logged():
    redactor = logs.Redactor()
    params = logging.LogRecord("sqlalchemy.engine.Engine", logging.INFO, __file__, 1, "[%s] %r",
                               ("generated in 0.0006s", ("id", "Cán bộ tận tình")), None)
    row = logging.LogRecord("sqlalchemy.engine.Engine", logging.DEBUG, __file__, 1, "Row %r",
                            (("id", "Ý kiến: Cán bộ tận tình"),), None)
    call = logging.LogRecord("aiosqlite", logging.DEBUG, __file__, 1, "executing %s",
                             ("functools.partial(<execute>, 'SELECT ?', ('Cán bộ',))",), None)
    statement = logging.LogRecord("sqlalchemy.engine.Engine", logging.INFO, __file__, 1,
                                  "SELECT outbox.id FROM outbox WHERE outbox.platform IN (?)", (), None)
    for record in (params, row, call, statement):
        redactor.filter(record)
    assert params.getMessage() == "[generated in 0.0006s] [redacted]"
    assert row.getMessage() == "Row [redacted]" and call.getMessage() == "executing functools.partial([redacted])"
    assert statement.getMessage() == "SELECT outbox.id FROM outbox WHERE outbox.platform IN (?)"
