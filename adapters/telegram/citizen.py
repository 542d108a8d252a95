"""The citizen's side of the Telegram bot: every update becomes one service call, every outcome goes through the
presenter and is rendered as messages with inline keyboards.

No survey state lives here: the service layer keeps it in the database, keyed by a hash of the chat id. The one
thing kept in memory is which of the bot's messages still have live buttons, so that an answered question's message
is closed (its keyboard removed, the answer shown) whether it was answered by a press or by typing. After a restart
that memory is gone; an old keyboard then stays visible, and its presses are refused as stale by the engine.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from telegram import CallbackQuery, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from adapters.telegram.render import keyboard
from adapters.telegram.sending import Sender
from bot.survey.conversation import Outcome, SurveyService
from bot.survey.presenter import Closing, Presentation, event_for, language_choices, present
from bot.survey.presenter import Message as Shown
from bot.texts import language_of, say
from surveys import events as ev

log = logging.getLogger(__name__)
PLATFORM = "telegram"
LIVE_CHATS = 10_000  # chats whose live messages are remembered (the oldest are forgotten first)


@dataclass
class Live:
    """A message of ours that still has buttons."""

    message_id: int
    text: str
    question: str | None


class LiveMessages:
    def __init__(self, limit: int = LIVE_CHATS) -> None:
        self.limit = limit
        self.by_chat: OrderedDict[int, list[Live]] = OrderedDict()

    def add(self, chat: int, live: Live) -> None:
        self.by_chat.setdefault(chat, []).append(live)
        self.by_chat.move_to_end(chat)
        while len(self.by_chat) > self.limit:
            self.by_chat.popitem(last=False)

    def take(self, chat: int) -> list[Live]:
        return self.by_chat.pop(chat, [])


class CitizenHandlers:
    def __init__(self, service: SurveyService, sender: Sender, on_completed=lambda: None) -> None:
        self.service = service
        self.sender = sender
        self.on_completed = on_completed
        self.live = LiveMessages()

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
        await self.render(update.effective_chat.id, Presentation(
            (Shown(say("citizen.choose_language"), (language_choices(),)),), accepted=False))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.show(update.effective_chat.id, await self._handle(update, ev.Text(update.message.text)))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        kind = next((k for k in ("sticker", "photo", "voice", "document", "video", "audio", "location")
                     if getattr(message, k, None)), "other")
        await self.show(update.effective_chat.id, await self._handle(update, ev.Unsupported(kind)))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        event = event_for(query.data or "")
        if event is None:
            await self.sender.answer(query, say("citizen.stale_button", language_of(
                (query.from_user.language_code or "vi")[:2])))
            return
        shown = present(await self._handle(update, event), pressed=True)
        await self.sender.answer(query, shown.toast)  # a toast for a refused press; an empty answer otherwise
        if shown.toast is None:
            await self.render(update.effective_chat.id, shown, pressed=query)

    async def show(self, chat: int, outcome: Outcome) -> None:
        await self.render(chat, present(outcome))

    async def render(self, chat: int, shown: Presentation, pressed: CallbackQuery | None = None) -> None:
        """Close what the event answered, then send the new messages, remembering those with buttons."""
        if shown.completed:
            self.on_completed()  # an alert may be waiting in the outbox
        if shown.accepted:
            await self._close(chat, shown.closing, pressed)
        for message in shown.messages:
            sent = await self.sender.send(chat, message.text, keyboard(message))
            if message.choices and sent is not None:
                self.live.add(chat, Live(sent.message_id, message.text, message.question))

    async def _close(self, chat: int, closing: Closing | None, pressed: CallbackQuery | None) -> None:
        """Only the current question keeps live buttons: the answered one shows its answer, others just lose theirs."""
        pressed_message = pressed.message if pressed is not None and isinstance(pressed.message, Message) else None
        closed_answer = False
        for live in reversed(self.live.take(chat)):  # the latest copy of a question is the one to show the answer
            if pressed_message is not None and live.message_id == pressed_message.message_id:
                continue
            if closing is not None and live.question == closing.question and not closed_answer:
                await self.sender.edit(chat, live.message_id, closing.text)
                closed_answer = True
            else:
                await self.sender.edit(chat, live.message_id, live.text)
        if pressed_message is not None:
            text = closing.text if closing is not None else (pressed_message.text or "…")
            await self.sender.edit(chat, pressed_message.message_id, text)
        elif closing is not None and not closed_answer:
            await self.sender.send(chat, closing.echo)  # nothing to edit (a restart forgot it): say it instead


def error_text(language: str) -> str:
    return say("citizen.something_wrong", language_of(language))
