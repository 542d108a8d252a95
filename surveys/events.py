"""The events a channel can feed the engine, and the channel-neutral replies it gets back.

A channel turns a platform update into one event (a button press into `Choose`, a typed message into `Text`, a
sticker into `Unsupported`, ...), calls `surveys.engine.step`, and renders the `Reply` its own way: buttons on
Telegram, numbered text on Zalo and in the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from surveys.instrument import AnswerValue


@dataclass(frozen=True)
class Start:
    """Begin a survey (or, on a survey in progress, repeat the current question)."""

    language: str | None = None
    sections: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Choose:
    """A button press carrying an option value (or its typed key); ``question`` names the button's question."""

    value: int | str
    question: str | None = None


@dataclass(frozen=True)
class Text:
    """Anything the citizen typed: a number, a label, a command word or a comment."""

    text: str


@dataclass(frozen=True)
class Back:
    """Go back to the previous question to change its answer; ``question`` names the button's question."""

    question: str | None = None


@dataclass(frozen=True)
class Skip:
    """Skip the current question (only where it is not required)."""

    question: str | None = None


@dataclass(frozen=True)
class NotApplicable:
    """Answer "Không áp dụng" (only where the question allows it)."""

    question: str | None = None


@dataclass(frozen=True)
class SetLanguage:
    """Switch the conversation language."""

    language: str


@dataclass(frozen=True)
class Help:
    """Ask how to answer."""


@dataclass(frozen=True)
class Cancel:
    """Stop the survey; the first `Cancel` asks to confirm, ``confirmed=True`` stops it."""

    confirmed: bool = False


@dataclass(frozen=True)
class Resume:
    """Keep going after a cancel prompt (or just repeat the current question)."""


@dataclass(frozen=True)
class Unsupported:
    """Something the engine cannot read: a sticker, a photo, a voice message, a file."""

    kind: str = ""


Event = Start | Choose | Text | Back | Skip | NotApplicable | SetLanguage | Help | Cancel | Resume | Unsupported

Status = Literal["active", "confirm_cancel", "completed", "cancelled"]
CommandName = Literal["back", "skip", "na", "help", "cancel", "yes", "no", "lang_vi", "lang_en"]


@dataclass(frozen=True)
class OptionView:
    """An option as shown: its stored value, its label, and what to type to choose it."""

    value: int | str
    label: str
    key: str


@dataclass(frozen=True)
class QuestionView:
    """The current question, ready to render."""

    code: str
    type: str
    text: str
    number: int
    total: int
    progress: str
    options: tuple[OptionView, ...] = ()
    hint: str | None = None
    section_title: str | None = None
    section_lead: str | None = None  # the section's lead-in, on the first question shown of the section
    max_length: int | None = None
    current_answer: str | None = None
    current_value: AnswerValue | None = None  # the earlier answer itself (a form preselects it), when going back


@dataclass(frozen=True)
class AnswerView:
    """The question just answered and its answer as shown, so a channel can close that question's message.

    Attributes:
        code: the question's code.
        progress: its position as shown ("Câu 3/16").
        text: the question's text.
        label: the chosen option's label, the command's caption ("Không áp dụng", "Bỏ qua") or the comment.
        key: what a citizen types for that option ("4"), or ``None`` when the answer was not an option.
        kind: "option", "skip", "na" or "text" (a comment).
    """

    code: str
    progress: str
    text: str
    label: str
    key: str | None = None
    kind: Literal["option", "skip", "na", "text"] = "option"


@dataclass(frozen=True)
class Reply:
    """What to say after one event.

    Attributes:
        status: the survey's status after the event.
        language: the language every text below is in.
        accepted: False when the event changed nothing (an unclear answer, a stale button, help).
        notices: short messages to show before the question (hints, "your comment was cut", ...).
        question: the question to ask now, or ``None`` when the survey is over or awaiting a confirmation.
        commands: the commands allowed now, in display order; `command_labels` gives their captions.
        command_labels: caption of each allowed command in ``language``.
        closing: the last message of a finished or stopped survey.
        answers: on completion, the answers as {code: value} for exactly the questions shown.
        answered: the question this event answered, when it answered one.
    """

    status: Status
    language: str
    accepted: bool = True
    notices: tuple[str, ...] = ()
    question: QuestionView | None = None
    commands: tuple[CommandName, ...] = ()
    command_labels: Mapping[str, str] = field(default_factory=dict)
    closing: str | None = None
    answers: Mapping[str, AnswerValue] | None = None
    answered: AnswerView | None = None
