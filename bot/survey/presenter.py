"""What a citizen is shown after one event, for every channel: an `Outcome` of the conversation service becomes
channel-neutral messages (text, choices with their actions and the numbers to type), the old message to close,
or a short toast for a refused button press.

A channel renders a `Presentation` its own way: Telegram as inline keyboards, the terminal and Zalo as numbered
text. The action of a choice is what the channel gets back when the citizen picks it (Telegram's callback data);
`event_for` turns it into the engine event. An answer action names its question, so a button of an older question
is recognised and refused by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.survey.step import Outcome
from bot.texts import language_of, say
from surveys import events as ev
from surveys.events import AnswerView, QuestionView, Reply

MAX_ACTION_BYTES = 64  # Telegram's callback data limit, the tightest of our platforms
COMMAND_CHOICES = ("na", "skip", "back")  # shown as choices under a question; help, cancel, language are typed
_COMMAND_LETTERS = {"na": "n", "skip": "s", "back": "b"}


@dataclass(frozen=True)
class Choice:
    """One thing the citizen can pick: its label as shown, and the action sent back."""

    label: str
    action: str


@dataclass(frozen=True)
class Message:
    """One message: its text and rows of choices (none for plain text)."""

    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()
    question: str | None = None  # the code of the question it asks, if it asks one


@dataclass(frozen=True)
class Closing:
    """The answered question's message, closed: what it reads now, and the echo for channels that cannot edit."""

    question: str
    text: str
    echo: str


@dataclass(frozen=True)
class Presentation:
    """Everything to show after one event, in order."""

    messages: tuple[Message, ...] = ()
    toast: str | None = None  # a refused button press: this short notice, and no message
    closing: Closing | None = None  # close this question's message before sending the new ones
    accepted: bool = True  # False: nothing changed, older messages keep their buttons
    completed: bool = False  # a survey was just completed (an alert may be waiting in the outbox)


def present(outcome: Outcome, *, pressed: bool = False) -> Presentation:
    """The messages for ``outcome``; ``pressed`` when the event was a button press (refusals become a toast)."""
    lang = language_of(outcome.language)
    reply = outcome.reply
    if reply is None:
        return Presentation(tuple(Message(text) for text in outcome.texts), accepted=outcome.status != "duplicate")
    if outcome.status == "duplicate":
        # Seen before: its reply may have been lost, so the current question (or confirmation) again.
        shown = question_message(reply) if reply.question is not None else None
        if reply.status == "confirm_cancel":
            shown = Message("\n".join(reply.notices), (confirm_choices(reply),))
        return Presentation((shown,) if shown else (), accepted=False)
    if pressed and not reply.accepted:
        toast = reply.notices[0] if reply.notices else (reply.closing or say("citizen.stale_button", lang))
        return Presentation(toast=toast, accepted=False)
    messages: list[Message] = []
    texts, notices = list(outcome.texts), list(reply.notices)
    if outcome.started or outcome.introduced:
        # The first message: centre, service, anonymity, length, and the choice of language.
        messages.append(Message("\n\n".join([*texts, *notices]), (language_choices(),) if outcome.started else ()))
        texts, notices = [], []
    if reply.status == "confirm_cancel":
        messages += [Message(text) for text in texts]
        messages.append(Message("\n".join(notices), (confirm_choices(reply),)))
    else:
        messages += [Message(text) for text in [*texts, *notices]]
        if reply.question is not None:
            messages.append(question_message(reply))
        elif reply.closing:
            messages.append(Message(reply.closing))
    closing = closing_of(reply.answered, lang) if reply.accepted and reply.answered else None
    return Presentation(tuple(messages), closing=closing, accepted=reply.accepted,
                        completed=reply.status == "completed" and reply.accepted)


def question_text(question: QuestionView) -> str:
    """The question as its message reads: "Câu 3/16. text", the hint, the earlier answer when going back."""
    lines = [question.section_lead, ""] if question.section_lead else []
    lines.append(f"{question.progress}. {question.text}")
    if question.hint:
        lines.append(f"({question.hint})")
    if question.current_answer:
        lines.append(question.current_answer)
    return "\n".join(lines)


def question_message(reply: Reply) -> Message:
    """The current question with one choice per option ("5 · Rất hài lòng") and its command choices."""
    question = reply.question
    rows = [(Choice(option_label(o.key, o.label), _action("a", question.code, o.key)),) for o in question.options]
    commands = tuple(Choice(reply.command_labels[c], _action(_COMMAND_LETTERS[c], question.code))
                     for c in COMMAND_CHOICES if c in reply.commands)
    if commands:
        rows.append(commands)
    return Message(question_text(question), tuple(rows), question.code)


def option_label(key: str | None, label: str) -> str:
    """An option as shown, its number first, so that what to type is never in doubt."""
    return f"{key} · {label}" if key else label


def confirm_choices(reply: Reply) -> tuple[Choice, ...]:
    return Choice(reply.command_labels["yes"], "y"), Choice(reply.command_labels["no"], "r")


def language_choices() -> tuple[Choice, ...]:
    return Choice("Tiếng Việt", "l|vi"), Choice("English", "l|en")


def closing_of(answered: AnswerView, language: str) -> Closing:
    """How the answered question's message reads once closed, and the echo of the answer."""
    if answered.key:
        shown, echo = option_label(answered.key, answered.label), say(
            "citizen.chose", language, key=answered.key, label=answered.label)
    elif answered.kind == "skip":
        shown, echo = answered.label, say("citizen.skipped", language)
    elif answered.kind == "text":
        shown, echo = _shorten(answered.label), say("citizen.comment_noted", language)
    else:
        shown, echo = answered.label, say("citizen.chose_plain", language, label=answered.label)
    return Closing(answered.code, f"{answered.progress}. {answered.text}\n✅ {shown}", echo)


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _action(*parts: str) -> str:
    action = "|".join(parts)
    if len(action.encode("utf-8")) > MAX_ACTION_BYTES:
        raise ValueError(f"action over {MAX_ACTION_BYTES} bytes: {action!r}")
    return action


def event_for(action: str) -> ev.Event | None:
    """The engine event a choice's action stands for, or None for an action we never sent (forged or old)."""
    match action.split("|"):
        case ["a", code, key]:
            return ev.Choose(key, question=code)
        case ["s", code]:
            return ev.Skip(question=code)
        case ["n", code]:
            return ev.NotApplicable(question=code)
        case ["b", code]:
            return ev.Back(question=code)
        case ["y"]:
            return ev.Cancel(confirmed=True)
        case ["r"]:
            return ev.Resume()
        case ["l", ("vi" | "en") as language]:
            return ev.SetLanguage(language)
    return None
