"""The terminal channel behind `sipas-bot try`: numbered options, one answer per line, from a person or a pipe."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from adapters.common.numbered import render_message, typing_hint
from bot.errors import UserError
from bot.reports.formatting import format_pct
from bot.survey.conversation import Outcome, SurveyService
from bot.survey.presenter import present
from bot.texts import language_of, say
from surveys import events as ev
from surveys.engine import start, step
from surveys.instrument import NOT_APPLICABLE, SKIPPED, AnswerValue, Instrument
from surveys.scoring import answers_frame, score


@dataclass(frozen=True)
class TerminalResult:
    status: str
    answers: Mapping[str, AnswerValue] | None
    message: str = ""


def render(outcome: Outcome, show_section: bool = False) -> str:
    """One outcome as terminal text: the presenter's messages with numbered options, and what can be typed."""
    shown = present(outcome)
    reply = outcome.reply
    lines = []
    if shown.closing is not None:
        lines.append(shown.closing.echo)  # a terminal cannot edit what it printed: the answer is echoed
    for message in shown.messages:
        if message.question is not None:
            if show_section and reply.question and reply.question.section_title:
                lines.append(f"\n== {reply.question.section_title} ==")
            lines.append("")
        lines.append(render_message(message))
    if reply is not None and (hint := typing_hint(reply)):
        lines.append(hint)
    return "\n".join(lines)


class Conversation(Protocol):
    """One survey as the terminal sees it: the pure engine, or the service layer when answers are saved."""

    async def begin(self) -> Outcome: ...

    async def send(self, text: str) -> Outcome: ...


class EngineConversation:
    """The engine alone: nothing is stored."""

    def __init__(self, instrument: Instrument, language: str | None, sections: frozenset[str]) -> None:
        self.instrument, self.language, self.sections = instrument, language, sections
        self.progress = None

    async def begin(self) -> Outcome:
        self.progress, reply = start(self.instrument, self.language, self.sections)
        return Outcome("survey", reply.language, (), reply, started=True)

    async def send(self, text: str) -> Outcome:
        self.progress, reply = step(self.instrument, self.progress, ev.Text(text))
        return Outcome("survey", reply.language, (), reply)


class ServiceConversation:
    """Through the service layer, as channel "terminal": each answer is its own transaction, and the completed
    response is stored against the chosen centre like any other channel's."""

    def __init__(self, service: SurveyService, centre: str, service_code: str | None, survey: str,
                 language: str | None, sections: frozenset[str]) -> None:
        self.service, self.centre, self.service_code = service, centre, service_code
        self.survey, self.language, self.sections = survey, language, sections
        self.chat_id = secrets.token_hex(8)  # a throwaway chat: nothing links it to a person

    async def begin(self) -> Outcome:
        return self._unpack(await self.service.start_open(
            "terminal", self.chat_id, self.centre, service_code=self.service_code, survey=self.survey,
            language=self.language, allow_closed=True, sections=self.sections))

    async def send(self, text: str) -> Outcome:
        return self._unpack(await self.service.handle("terminal", self.chat_id, ev.Text(text)))

    async def end_early(self) -> None:
        await self.service.abandon("terminal", self.chat_id)

    @staticmethod
    def _unpack(outcome: Outcome) -> Outcome:
        if outcome.reply is None:
            raise UserError(" ".join(outcome.texts) or "the survey could not be started")
        return outcome


async def run_terminal(instrument: Instrument, conversation: Conversation, read: Callable[[], Awaitable[str | None]],
                       write: Callable[[str], None]) -> TerminalResult:
    """Run one survey: ``read`` returns the next answer line (``None`` at the end), ``write`` prints a block."""
    outcome = await conversation.begin()
    reply = outcome.reply
    write(f"{instrument.title.get(reply.language)}")
    write(render(outcome, show_section=True))
    section = reply.question.section_title if reply.question else None
    while reply.status in ("active", "confirm_cancel"):
        line = await read()
        if line is None:
            at = reply.question.progress if reply.question else "?"
            if hasattr(conversation, "end_early"):
                await conversation.end_early()  # nothing half-answered is left behind
            return TerminalResult("incomplete", None, say("citizen.terminal_ended", reply.language, progress=at))
        outcome = await conversation.send(line.rstrip("\r\n"))
        reply = outcome.reply
        new_section = reply.question.section_title if reply.question else section
        write(render(outcome, show_section=new_section != section))
        section = new_section
    if reply.status == "cancelled":
        return TerminalResult("cancelled", None, say("citizen.terminal_cancelled", reply.language))
    return TerminalResult("completed", dict(reply.answers or {}))


def summarise(instrument: Instrument, answers: Mapping[str, AnswerValue], language: str) -> str:
    """The answers of one response and its measures (element indices and SIPAS), as terminal text."""
    language = language_of(language)

    def words(key: str) -> str:
        return say(f"citizen.summary_{key}", language)

    lines = [f"\n{words('answers')}:"]
    for code, value in answers.items():
        question = instrument.question(code)
        if value is SKIPPED:
            shown = words("skipped")
        elif value == NOT_APPLICABLE:
            shown = words("na")
        elif question.type == "text":
            shown = str(value)
        else:
            shown = f"{value} ({question.label_for(value, language)})"
        lines.append(f"  {code}: {shown}")
    criteria = instrument.criteria()
    shown_criteria = {code: element for code, element in criteria.items() if code in answers}
    if not shown_criteria:
        return "\n".join(lines)
    scores = score(answers_frame([answers], shown_criteria), shown_criteria, min_n=1)
    lines.append(f"\n{words('measures')}:")
    for row in scores.elements.itertuples(index=False):
        name = instrument.elements[row.element].get(language)
        lines.append(f"  {name}: {format_pct(row.index, language, none=words('none'))}")
    sipas = scores.groups.iloc[0]["sipas"]
    lines.append(f"  {words('sipas')}: {format_pct(sipas, language, none=words('none'))}")
    return "\n".join(lines)
