"""Presenter messages as numbered text, for channels without buttons (the terminal; the Zalo Bot later): each
option on its own line with its number ("  5 · Rất hài lòng"), and one line that says what can be typed."""

from __future__ import annotations

from bot.survey.presenter import Message
from bot.texts import say
from surveys.events import Reply

OPTION_ACTION = "a|"  # the options; the other choices (skip, back, yes, language...) are typed words


def render_message(message: Message) -> str:
    """One message as text, with its options numbered."""
    lines = [message.text]
    lines += [f"  {choice.label}" for row in message.choices for choice in row if choice.action.startswith(
        OPTION_ACTION)]
    return "\n".join(lines)


def typing_hint(reply: Reply) -> str | None:
    """What can be typed now: "Gõ: số của phương án · “bỏ qua” · “quay lại” · …"."""
    if not reply.commands:
        return None
    lang = reply.language
    first = []
    if reply.question is not None:
        first = [say("citizen.type_option_number" if reply.question.options else "citizen.type_your_comment", lang)]
    words = [f"“{say(f'citizen.typed_{command}', lang)}”" for command in reply.commands]
    return f"{say('citizen.type_prompt', lang)}: " + " · ".join(first + words)
