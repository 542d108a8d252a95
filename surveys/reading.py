"""Reading what a citizen typed as the engine event it stands for, given the question being asked.

Numbers pick the option with that key ("0" is "not applicable" where the question allows it and no option is
0), whole labels (in any of the instrument's languages, folded) pick that option, command words become commands;
anything else is free text, a comment or something unclear.
"""

from __future__ import annotations

from surveys import events as ev
from surveys.events import CommandName
from surveys.instrument import Instrument, Question
from surveys.progress import Progress
from surveys.textmatch import match_label, parse_command, parse_number

_LANGUAGE_COMMANDS = {"lang_vi": "vi", "lang_en": "en"}


class FreeText(ev.Text):
    """Typed text that is neither an option nor a command: a comment, or something unclear."""


def read_text(instrument: Instrument, progress: Progress, text: str) -> ev.Event:
    """Turn typed text into the event it stands for, given the question being asked.

    Args:
        instrument: the survey being answered.
        progress: where the conversation is.
        text: what the citizen typed.

    Returns:
        The event: `Choose`, a command event, or `FreeText`.
    """
    question = instrument.question(progress.history[-1]) if progress.history else None
    if progress.status == "active" and question is not None and question.type != "text":
        number = parse_number(text)
        for position, option in enumerate(question.options):
            if number is not None and question.key_for(position, option) == str(number):
                return ev.Choose(option.value)
        if number == 0 and question.allow_na:
            # "0" is "không áp dụng" where no option has that key: Zalo's buttons hold only the five levels.
            return ev.NotApplicable()
        hit = _match_any_language(text, question, instrument.languages)
        if hit is not None:
            return ev.Choose(question.options[hit].value)
    command = parse_command(text)
    if progress.status == "confirm_cancel" and command in ("yes", "no"):
        return ev.Cancel(confirmed=True) if command == "yes" else ev.Resume()
    if question is not None and question.type == "text" and progress.status == "active":
        # In a comment only whole command words count; "không" or "n/a" alone means "no comment".
        if command in ("no", "na") and not question.required:
            return ev.Skip()
        if command in (None, "yes", "no"):
            return FreeText(text)
    return _command_event(command, text)


def _match_any_language(text: str, question: Question, languages: tuple[str, ...]) -> int | None:
    for lang in languages:
        hit = match_label(text, [option.label.get(lang) for option in question.options])
        if hit is not None:
            return hit
    return None


def _command_event(command: CommandName | None, text: str) -> ev.Event:
    match command:
        case "back":
            return ev.Back()
        case "skip":
            return ev.Skip()
        case "na":
            return ev.NotApplicable()
        case "help":
            return ev.Help()
        case "cancel":
            return ev.Cancel()
        case "lang_vi" | "lang_en":
            return ev.SetLanguage(_LANGUAGE_COMMANDS[command])
    return FreeText(text)
