"""Engine replies as Telegram messages, and button presses back as engine events.

Callback data stays far below Telegram's 64-byte limit: an answer is ``a|<question code>|<option key>`` (codes are
at most 40 ASCII characters, keys one or two digits), a command one letter. The question code in the data lets the
engine recognise a button of an old question.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from surveys import events as ev
from surveys.events import QuestionView, Reply

MAX_CALLBACK_BYTES = 64
COMMAND_BUTTONS = ("back", "skip", "na")  # shown as buttons under a question; help/cancel/lang are /commands
LANGUAGE_BUTTONS = (("Tiếng Việt", "l|vi"), ("English", "l|en"))


def _data(*parts: str) -> str:
    data = "|".join(parts)
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def question_text(question: QuestionView) -> str:
    lines = [f"{question.progress}. {question.text}"]
    if question.hint:
        lines.append(f"({question.hint})")
    if question.current_answer:
        lines.append(question.current_answer)
    return "\n".join(lines)


def answered_text(question: QuestionView, label: str) -> str:
    """What a question message becomes once answered: the transcript shows the chosen answer, no buttons."""
    return f"{question.progress}. {question.text}\n✅ {label}"


def question_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    question = reply.question
    if question is None:
        return None
    rows = [[InlineKeyboardButton(o.label, callback_data=_data("a", question.code, o.key))]
            for o in question.options]
    commands = [c for c in ("na", "skip", "back") if c in reply.commands]
    row = []
    for command in commands:
        letter = {"na": "n", "skip": "s", "back": "b"}[command]
        row.append(InlineKeyboardButton(reply.command_labels[command],
                                        callback_data=_data(letter, question.code)))
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None


def confirm_keyboard(reply: Reply) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(reply.command_labels["yes"], callback_data="y"),
        InlineKeyboardButton(reply.command_labels["no"], callback_data="r"),
    ]])


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in LANGUAGE_BUTTONS]])


def label_of(question: QuestionView, data: str, reply_before: Reply | None = None) -> str | None:
    """The label of the option an answer button carried (for the transcript edit)."""
    parts = data.split("|")
    if parts[0] != "a" or len(parts) != 3:
        return None
    return next((o.label for o in question.options if o.key == parts[2]), None)


def event_for(data: str) -> ev.Event | None:
    """The engine event a button stands for, or None for data we never sent (forged or from an old version)."""
    parts = data.split("|")
    match parts:
        case ["a", code, key]:
            return ev.Choose(key, question=code)
        case ["s", code]:
            return ev.Skip(question=code)
        case ["n", code]:
            return ev.NotApplicable(question=code)
        case ["b", _code]:
            return ev.Back()
        case ["y"]:
            return ev.Cancel(confirmed=True)
        case ["r"]:
            return ev.Resume()
        case ["l", ("vi" | "en") as language]:
            return ev.SetLanguage(language)
    return None
