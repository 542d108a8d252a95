"""The floor of the Telegram benchmark: a bare python-telegram-bot webhook bot that sends what ours sends.

Same Application setup as `adapters.telegram.channel.TelegramChannel` (the rate limiter it is given, the
`PerChatProcessor` with the same concurrency, no updater), the same webhook plumbing (an aiohttp route with the
`bot.http.app` error middleware: secret check, `Update.de_json`, the update processor, 200 after processing), and per
step the same Bot API calls with the same payloads: answerCallbackQuery, editMessageText (the question's first line
and the pressed label) and sendMessage of the next question with its inline keyboard. No engine, no database: the
messages come from a script computed once, before timing, by running the engine on the benchmark's answer policy.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram.channel import SECRET_HEADER, WEBHOOK_PATH, PerChatProcessor
from adapters.telegram.render import keyboard as keyboard_of
from bot.http.app import json_errors
from bot.survey.presenter import Message as Shown
from bot.survey.presenter import language_choices, question_message
from bot.texts import say
from surveys import engine
from surveys import events as ev
from surveys.events import QuestionView
from surveys.instrument import Instrument

Message = tuple[str, InlineKeyboardMarkup | None]


def answer_event(question: QuestionView, commands: tuple[str, ...], comment: str | None,
                 rating: str | None = None) -> ev.Event:
    """The benchmark's citizen: a rating gets ``rating`` (else its first option), a choice its first option,
    a text question the skip button (or the typed ``comment``)."""
    if question.options:
        keys = [o.key for o in question.options]
        return ev.Choose(rating if question.type == "rating" and rating in keys else keys[0], question=question.code)
    if comment is None and "skip" in commands:
        return ev.Skip(question=question.code)
    return ev.Text(comment or "Tốt")


@dataclass(frozen=True)
class Script:
    welcome: str
    first: Message
    after: dict[str, Message]  # question code -> the message that follows its answer
    steps: int  # answers from the first question to the closing


def survey_script(instrument: Instrument, centre_name: str, comment: str | None, language: str = "vi") -> Script:
    progress, reply = engine.start(instrument, language)
    welcome = "\n\n".join([say("citizen.welcome", progress.language, centre=centre_name, service=""), *reply.notices])
    first = _shown(question_message(reply))
    after: dict[str, Message] = {}
    while reply.question is not None:
        question = reply.question
        progress, reply = engine.step(instrument, progress, answer_event(question, reply.commands, comment))
        if not reply.accepted:
            raise RuntimeError(f"the benchmark's answer to {question.code} was not accepted")
        after[question.code] = (_shown(question_message(reply)) if reply.question is not None
                                else (reply.closing or "", None))
    return Script(welcome, first, after, len(after))


def _shown(message: Shown) -> Message:
    return message.text, keyboard_of(message)


class FloorHandlers:
    """The same Bot API calls as ours per step: the pressed (or typed-at) question edited into a transcript line,
    the welcome's language buttons removed at the first answer, the next message sent."""

    def __init__(self, script: Script, last_text_question: str | None) -> None:
        self.script = script
        self.text_question = last_text_question
        self.welcome: dict[int, int] = {}  # chat -> the welcome message, whose buttons go at the first answer
        self.last: dict[int, tuple[int, str]] = {}  # chat -> the latest question message

    def register(self, application: Application) -> None:
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        sent = await context.bot.send_message(chat, self.script.welcome,
                                              reply_markup=keyboard_of(Shown("", (language_choices(),))))
        self.welcome[chat] = sent.message_id
        text, keyboard = self.script.first
        sent = await context.bot.send_message(chat, text, reply_markup=keyboard)
        self.last[chat] = (sent.message_id, text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = (query.data or "").split("|")
        following = self.script.after.get(parts[1]) if len(parts) > 1 else None
        if following is None:
            await query.answer("Nút này không còn dùng được.")
            return
        await query.answer()
        message = query.message
        pressed = next(b.text for row in message.reply_markup.inline_keyboard for b in row
                       if b.callback_data == query.data)
        if (welcome := self.welcome.pop(message.chat_id, None)) is not None:
            await context.bot.edit_message_text(self.script.welcome, chat_id=message.chat_id, message_id=welcome)
        await context.bot.edit_message_text(f"{message.text.split(chr(10))[0]}\n✅ {pressed}",
                                            chat_id=message.chat_id, message_id=message.message_id)
        text, keyboard = following
        sent = await context.bot.send_message(message.chat_id, text, reply_markup=keyboard)
        self.last[message.chat_id] = (sent.message_id, text)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        if (asked := self.last.pop(chat, None)) is not None:
            await context.bot.edit_message_text(f"{asked[1]}\n✅ {update.message.text}", chat_id=chat,
                                                message_id=asked[0])
        text, keyboard = self.script.after[self.text_question]
        await context.bot.send_message(chat, text, reply_markup=keyboard)


@asynccontextmanager
async def serve_floor(*, token: str, api_root: str, host: str, port: int, secret: str, concurrency: int,
                      rate_limiter: Callable[[], BaseRateLimiter], handlers: FloorHandlers) -> AsyncIterator[None]:
    """The floor bot on http://host:port/webhooks/telegram, with its webhook set at the fake."""
    application = (Application.builder().token(token).base_url(f"{api_root}/bot").base_file_url(f"{api_root}/file/bot")
                   .rate_limiter(rate_limiter()).concurrent_updates(PerChatProcessor(concurrency))
                   .updater(None).build())
    handlers.register(application)

    async def webhook(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
            return web.json_response({"error": "unauthorized", "status": 401}, status=401)
        update = Update.de_json(await request.json(), application.bot)
        await application.update_processor.process_update(update, application.process_update(update))
        return web.json_response({"ok": True})

    site_app = web.Application(middlewares=[json_errors])
    site_app.router.add_post(WEBHOOK_PATH, webhook)
    runner = web.AppRunner(site_app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await application.initialize()
        await application.start()
        try:
            await application.bot.set_webhook(url=f"http://{host}:{port}{WEBHOOK_PATH}", secret_token=secret,
                                              allowed_updates=["message", "callback_query"])
            yield
        finally:
            await application.stop()
            await application.shutdown()
    finally:
        await runner.cleanup()
