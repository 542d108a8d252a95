"""Presenter messages as Telegram messages: choices become inline keyboard buttons, one row per option (numbers
first, "5 · Rất hài lòng"), the command choices on one row; a choice's action is the button's callback data (the
presenter keeps it under Telegram's 64 bytes)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.survey.presenter import Message


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    if not message.choices:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(choice.label, callback_data=choice.action) for choice in row]
                                 for row in message.choices])
