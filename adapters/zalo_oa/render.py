"""Presenter messages as OA consultation messages (`POST /v3.0/oa/message/cs`, ../shared/docs/platforms.md §A.3).

Zalo allows few buttons (five): a question's options go on `oa.query.hide` buttons when there are at most five,
else they are numbered in the text (adapters/common/numbered.py). A tap comes back as the citizen's text carrying
the button's payload, "#" + the presenter's action ("#a|access_1|5"), which nobody would type. "Không áp dụng",
"bỏ qua" and "quay lại" are typed: one line under the question says so ("0" is not applicable). Typed numbers and
label words always work. The OA cannot edit a sent message, so the answer just given is echoed at the top of the
next message; texts over 2,000 characters are split, the buttons going with the last part.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.common import numbered
from adapters.common.parts import split_text
from bot.survey.presenter import Choice, Message, Presentation
from bot.texts import say

PAYLOAD_MARK = "#"
MAX_BUTTONS = 5
MAX_TITLE = 100
TYPED = {"n": "citizen.oa_type_zero_na", "s": "citizen.typed_skip", "b": "citizen.typed_back"}


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class OAMessage:
    """One consultation message: its text and its query buttons (none for plain text)."""

    text: str
    buttons: tuple[Button, ...] = ()


def render(shown: Presentation, language: str) -> list[OAMessage]:
    """The OA messages for one presentation, in order (the echo of an accepted answer first)."""
    echo = shown.closing.echo if shown.accepted and shown.closing is not None else None
    out: list[OAMessage] = []
    for position, message in enumerate(shown.messages):
        out += render_message(message, language, lead=echo if position == 0 else None)
    if echo and not shown.messages:
        out.append(OAMessage(echo))
    return out


def render_message(message: Message, language: str, lead: str | None = None) -> list[OAMessage]:
    """One presenter message as one OA message, or several when its text is too long."""
    picks = [c for row in message.choices for c in row if _kind(c) not in TYPED]
    typed = [c for row in message.choices for c in row if _kind(c) in TYPED]
    if len(picks) > MAX_BUTTONS:
        text, buttons = numbered.render_message(message), ()
    else:
        text, buttons = message.text, tuple(Button(_title(c.label), PAYLOAD_MARK + c.action) for c in picks)
    lines = [lead, "", text] if lead else [text]
    if message.question is not None:
        lines.append(typing_hint(language, has_options=bool(picks), typed=typed))
    parts = split_text("\n".join(lines))
    return [OAMessage(part, buttons if last else ()) for last, part in
            ((i == len(parts) - 1, p) for i, p in enumerate(parts))]


def typing_hint(language: str, *, has_options: bool, typed: list[Choice]) -> str:
    """"Gõ: số của phương án · 0 (không áp dụng) · “bỏ qua” · “quay lại”"."""
    first = say("citizen.type_option_number" if has_options else "citizen.type_your_comment", language)
    words = [say(TYPED[_kind(c)], language) if _kind(c) == "n" else f"“{say(TYPED[_kind(c)], language)}”"
             for c in typed]
    return f"{say('citizen.type_prompt', language)}: " + " · ".join([first, *words])


def action_of(text: str) -> str | None:
    """The presenter action a tapped button's text carries, or None for typed text."""
    return text[len(PAYLOAD_MARK):] if text.startswith(PAYLOAD_MARK) and len(text) > 1 else None


def cs_body(user_id: str, message: OAMessage) -> dict:
    """The JSON body of `POST /v3.0/oa/message/cs` for one message to ``user_id``."""
    body: dict = {"text": message.text}
    if message.buttons:
        body["attachment"] = {"type": "template", "payload": {"buttons": [
            {"title": b.title, "type": "oa.query.hide", "payload": b.payload} for b in message.buttons]}}
    return {"recipient": {"user_id": user_id}, "message": body}


def _kind(choice: Choice) -> str:
    return choice.action.split("|", 1)[0]


def _title(label: str) -> str:
    return label if len(label) <= MAX_TITLE else label[: MAX_TITLE - 1].rstrip() + "…"
