"""The citizen's side of the Telegram bot: every update becomes one service call, every outcome a few messages.

No survey state lives here: the service layer keeps it in the database, keyed by a hash of the chat id.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from adapters.telegram import render
from adapters.telegram.sending import Sender
from bot.survey.conversation import Outcome, SurveyService
from surveys import events as ev

log = logging.getLogger(__name__)
PLATFORM = "telegram"
STALE = {"vi": "Nút này không còn dùng được.", "en": "This button is no longer active."}


class CitizenHandlers:
    def __init__(self, service: SurveyService, sender: Sender, on_completed=lambda: None) -> None:
        self.service = service
        self.sender = sender
        self.on_completed = on_completed

    def register(self, application: Application) -> None:
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler(["help", "trogiup"], self.on_help))
        application.add_handler(CommandHandler(["cancel", "huy"], self.on_cancel))
        application.add_handler(CommandHandler(["lang", "ngonngu"], self.on_lang))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other))

    async def _handle(self, update: Update, event: ev.Event) -> Outcome:
        return await self.service.handle(PLATFORM, update.effective_chat.id, event, event_key=str(update.update_id))

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        if context.args:
            outcome = await self.service.redeem(PLATFORM, chat, context.args[0], event_key=str(update.update_id))
        else:
            outcome = await self._handle(update, ev.Start())
        await self.show(chat, outcome)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.show(update.effective_chat.id, await self._handle(update, ev.Help()))

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.show(update.effective_chat.id, await self._handle(update, ev.Cancel()))

    async def on_lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.sender.send(update.effective_chat.id, "Chọn ngôn ngữ / Choose a language:",
                               render.language_keyboard())

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.show(update.effective_chat.id, await self._handle(update, ev.Text(update.message.text)))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        kind = next((k for k in ("sticker", "photo", "voice", "document", "video", "audio", "location")
                     if getattr(message, k, None)), "other")
        await self.show(update.effective_chat.id, await self._handle(update, ev.Unsupported(kind)))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat.id
        event = render.event_for(query.data or "")
        language = (query.from_user.language_code or "vi")[:2]
        if event is None:
            await self.sender.answer(query, STALE.get(language, STALE["vi"]))
            return
        outcome = await self._handle(update, event)
        reply = outcome.reply
        if outcome.status == "duplicate":
            await self.sender.answer(query)
            return
        if reply is None or not reply.accepted:
            # Nothing changed (an old button, a press twice, a required question): a toast, no new message.
            toast = (reply.notices[0] if reply and reply.notices else
                     (reply.closing if reply and reply.closing else STALE.get(outcome.language, STALE["vi"])))
            await self.sender.answer(query, toast)
            return
        await self.sender.answer(query)
        await self._settle(query, event, outcome)
        await self.show(chat, outcome)

    async def _settle(self, query: CallbackQuery, event: ev.Event, outcome: Outcome) -> None:
        """Turn the pressed message into a transcript line: the chosen answer shown, the buttons gone."""
        message = query.message
        if not isinstance(message, Message):
            return
        pressed = next((b.text for row in (message.reply_markup.inline_keyboard if message.reply_markup else ())
                        for b in row if b.callback_data == query.data), None)
        if isinstance(event, ev.Choose | ev.Skip | ev.NotApplicable) and pressed and message.text:
            first_line = message.text.split("\n")[0]
            await self.sender.edit(message.chat_id, message.message_id, f"{first_line}\n✅ {pressed}")
        elif message.reply_markup:
            await self.sender.edit(message.chat_id, message.message_id, message.text or pressed or "…")

    async def show(self, chat: int, outcome: Outcome) -> None:
        """Send what an outcome says: service texts, the engine's notices, then the question or the closing."""
        if outcome.status == "duplicate":
            return
        reply = outcome.reply
        if reply is not None and reply.status == "completed" and reply.accepted:
            self.on_completed()  # an alert may be waiting in the outbox
        texts = list(outcome.texts)
        if reply is None:
            for text in texts:
                await self.sender.send(chat, text)
            return
        notices = list(reply.notices)
        if outcome.started:
            # The first message: centre, service, anonymity, length, and the language buttons.
            await self.sender.send(chat, "\n\n".join([*texts, *notices]), render.language_keyboard())
            texts, notices = [], []
        for text in [*texts, *notices] if reply.status != "confirm_cancel" else texts:
            await self.sender.send(chat, text)
        if reply.status == "confirm_cancel":
            await self.sender.send(chat, "\n".join(reply.notices), render.confirm_keyboard(reply))
        elif reply.question is not None:
            await self.sender.send(chat, render.question_text(reply.question), render.question_keyboard(reply))
        elif reply.closing:
            await self.sender.send(chat, reply.closing)


def error_text(language: str) -> str:
    if language == "en":
        return ("Sorry, something went wrong on our side. Your answers so far are kept; please try again in a "
                "moment.")
    return ("Xin lỗi, hệ thống vừa gặp sự cố. Các câu trả lời của Ông/Bà đến lúc này vẫn được giữ; Ông/Bà vui "
            "lòng thử lại sau ít phút.")

