"""Outgoing messages with patience: Telegram's 429s are waited out by the rate limiter, transient network
errors are retried with backoff, and a message that finally fails is logged with the chat as a keyed hash (bot.logs),
never the token."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.logs import chat_ref

log = logging.getLogger(__name__)
ATTEMPTS = 4


def chat_tag(chat_id: int | str) -> str:
    """How logs name a Telegram chat: a hash keyed with the secret key (bot.logs), never the id or its SHA-256."""
    return chat_ref("telegram", chat_id)


class Sender:
    def __init__(self, bot: Bot, backoff: float = 0.5) -> None:
        self.bot = bot
        self.backoff = backoff

    async def send(self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None):
        return await self._call("sendMessage", chat_id, self.bot.send_message, chat_id=chat_id, text=text,
                                reply_markup=keyboard)

    async def edit(self, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None):
        try:
            return await self._call("editMessageText", chat_id, self.bot.edit_message_text, chat_id=chat_id,
                                    message_id=message_id, text=text, reply_markup=keyboard)
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return None  # already shows what we wanted
            raise

    async def answer(self, query: CallbackQuery, text: str | None = None) -> None:
        """Answer a button press with an optional toast, best effort: a redelivered update's query is too old to
        answer by the time it comes back, and that must not turn into an error for the citizen."""
        try:
            await query.answer(text[:200] if text else None)
        except BadRequest as error:
            log.info("telegram answerCallbackQuery in chat %s not accepted: %s",
                     chat_tag(query.message.chat.id if query.message else "?"), error.message)

    async def _call(self, method: str, chat, function, **params):
        delay = self.backoff
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await function(**params)
            except RetryAfter as error:
                # The rate limiter retries these itself; one that still reaches us waits its turn once more.
                wait = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") \
                    else float(error.retry_after)
                if attempt == ATTEMPTS:
                    raise
                await asyncio.sleep(wait)
            except (TimedOut, NetworkError) as error:
                if isinstance(error, BadRequest) or attempt == ATTEMPTS:
                    log.error("telegram %s to chat %s failed after %d attempts: %s", method, chat_tag(chat),
                              attempt, error.__class__.__name__)
                    raise
                await asyncio.sleep(delay)
                delay *= 2
            except Forbidden:
                log.warning("telegram %s to chat %s refused: the user blocked the bot", method, chat_tag(chat))
                return None
        return None
