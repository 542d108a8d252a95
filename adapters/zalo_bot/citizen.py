"""One Zalo Bot update from the inbox becomes one service call, and its outcome numbered text messages.

The Zalo Bot has no buttons (platforms.md §C.1): every option is a numbered line ("  5 · Rất hài lòng") and the
citizen types the number or the word; nothing can be edited, so an answer is echoed ("Ông/Bà chọn: 5 – ...").
Staff commands (/moi, /thongke, /baocao) are answered by `adapters/common/staff_text.py` first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from adapters.common.numbered import render_message, typing_hint
from adapters.common.parts import split_text
from adapters.common.staff_text import staff_reply
from adapters.zalo_bot.api import BotApi, ZaloBotError
from adapters.zalo_bot.updates import KINDS, TEXT, BadUpdate, Update, parse
from bot import counters
from bot.survey.conversation import Outcome, SurveyService
from bot.survey.presenter import present
from bot.survey.staff import StaffService
from bot.texts import language_of, say
from surveys import events as ev

log = logging.getLogger(__name__)
PLATFORM = "zalo-bot"  # the survey's platform and the response's channel
STAFF_PLATFORM = "zalo"  # staff rows hold a Zalo user id (`staff add --zalo-id`)
COMMAND_EVENTS = {"help": ev.Help, "trogiup": ev.Help, "cancel": ev.Cancel, "huy": ev.Cancel}


def outcome_texts(outcome: Outcome) -> list[str]:
    """The outcome as the messages to send: the answer's echo, each presenter message with numbered options,
    and what can be typed now under the last one."""
    shown = present(outcome)
    texts = [render_message(message) for message in shown.messages]
    if shown.closing is not None and shown.accepted:
        texts.insert(0, shown.closing.echo)  # nothing can be edited: the answer is said instead
    reply = outcome.reply
    hint = typing_hint(reply) if reply is not None and reply.status in ("active", "confirm_cancel") else None
    if hint:
        texts[-1:] = [f"{texts[-1]}\n\n{hint}" if texts else hint]
    return texts


class CitizenChat:
    """Processes the inbox rows of the Zalo Bot: ``handle(chat_id, body)`` for `bot.survey.inbox.InboxWorker`."""

    def __init__(self, service: SurveyService, staff: StaffService, api: BotApi,
                 on_completed: Callable[[], None] = lambda: None) -> None:
        self.service, self.staff, self.api, self.on_completed = service, staff, api, on_completed

    async def handle(self, user_key: str | None, body: str) -> None:
        try:
            update = parse(json.loads(body))
        except (ValueError, BadUpdate):
            log.warning("zalo-bot: an inbox row is not an update; dropped")
            return
        if not update.private:
            return
        try:
            texts = await self.answer(update)
        except Exception:  # a step failed (nothing of it was saved): tell the citizen, as Telegram does
            log.exception("zalo-bot: an update failed")
            counters.error_caught("bot")
            language = await self._language(update.chat_id)
            texts = [say("citizen.something_wrong", language)]
        await self.send(update.chat_id, texts)

    async def answer(self, update: Update) -> list[str]:
        """What to say to one private-chat update."""
        key = f"{PLATFORM}:{update.message_id}"
        if update.event_name != TEXT or update.text is None:
            kind = KINDS.get(update.event_name, "other")
            return outcome_texts(await self.service.handle(PLATFORM, update.chat_id, ev.Unsupported(kind),
                                                           event_key=key))
        text = update.text.strip()
        if text.startswith("/"):
            reply = await staff_reply(self.staff, update.user_id, text, platform=STAFF_PLATFORM)
            if reply is not None:
                return [reply.text]
            command, _, argument = text[1:].partition(" ")
            command = command.split("@")[0].lower()
            if command == "start":
                if argument.strip():
                    return outcome_texts(await self.service.redeem(PLATFORM, update.chat_id, argument.strip(),
                                                                   event_key=key))
                return outcome_texts(await self.service.handle(PLATFORM, update.chat_id, ev.Start(),
                                                               event_key=key))
            if command in COMMAND_EVENTS:
                return outcome_texts(await self.service.handle(PLATFORM, update.chat_id,
                                                               COMMAND_EVENTS[command](), event_key=key))
            if command in ("lang", "ngonngu"):
                language = await self._language(update.chat_id)
                return [f"{say('citizen.choose_language', language)}\n  {say('citizen.typed_lang_vi', language)}"
                        f"\n  {say('citizen.typed_lang_en', language)}"]
        outcome = await self.service.handle(PLATFORM, update.chat_id, ev.Text(text), event_key=key)
        if present(outcome).completed:
            self.on_completed()  # an alert may be waiting in the outbox
        return outcome_texts(outcome)

    async def send(self, chat_id: str, texts: list[str]) -> None:
        """Send the texts in order, each within 2,000 characters; a transient failure raises (the inbox retries
        the update, and the service's event key makes the retry show the current question, not answer again)."""
        for text in texts:
            for piece in split_text(text):
                try:
                    await self.api.send_message(chat_id, piece)
                except ZaloBotError as error:
                    if error.transient:
                        raise
                    log.warning("zalo-bot: a message was refused (%s)", error.code)
                    return

    async def _language(self, chat_id: str) -> str:
        try:
            return language_of(await self.service.chat_language(PLATFORM, chat_id))
        except Exception:  # the error path must not raise again
            return "vi"
