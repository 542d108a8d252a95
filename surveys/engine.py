"""The conversation engine: a pure state machine shared by every channel.

``step(instrument, progress, event)`` returns the new `Progress` and the `Reply` to show. It does no I/O, keeps
no state of its own, and never raises on citizen input: anything it cannot use leaves the progress unchanged and
produces a short hint in the citizen's language with the question repeated.

Rules:
    * Questions are asked in instrument order, skipping those whose ``show_if`` does not hold and optional sections
      not enabled at the start.
    * ``Back`` returns to the previous shown question, whose answer can then be changed.
    * On completion the answers hold exactly the questions shown, with skipped (``None``) and not applicable
      (``"NA"``) kept distinct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from surveys import events as ev
from surveys.events import CommandName, OptionView, QuestionView, Reply
from surveys.instrument import NOT_APPLICABLE, SKIPPED, AnswerValue, Instrument, Question
from surveys.messages import say
from surveys.progress import Progress
from surveys.textmatch import match_label, normalize_text, parse_command, parse_number

_LANGUAGE_COMMANDS = {"lang_vi": "vi", "lang_en": "en"}


def start(instrument: Instrument, language: str | None = None, sections: frozenset[str] = frozenset()) -> tuple[
        Progress, Reply]:
    """Begin a survey of ``instrument`` and ask its first question.

    Args:
        instrument: the questionnaire.
        language: the conversation language; the instrument's default when ``None`` or not offered.
        sections: optional sections to include (unknown names are ignored).
    """
    lang = language if language in instrument.languages else instrument.default_language
    enabled = frozenset(sections) & frozenset(instrument.optional_sections())
    first = _visible(instrument, enabled, {})[0]
    progress = Progress(instrument.id, instrument.version, lang, enabled, (first.code,), {})
    notices = (instrument.description.get(lang),) if instrument.description else ()
    return progress, _ask(instrument, progress, notices)


def step(instrument: Instrument, progress: Progress, event: ev.Event) -> tuple[Progress, Reply]:
    """Apply one event to ``progress`` and say what comes next.

    Args:
        instrument: the instrument ``progress`` was started on.
        progress: the saved state; it is never modified.
        event: what the citizen did.

    Returns:
        The new progress (the same object when nothing changed) and the reply.

    Raises:
        ValueError: ``progress`` belongs to another instrument (a programming error, never citizen input).
    """
    if progress.instrument != instrument.id:
        raise ValueError(f"progress of '{progress.instrument}' cannot be run on '{instrument.id}'")
    if progress.status == "completed":
        return progress, _closed(progress, "already_completed")
    if progress.status == "cancelled":
        return progress, _closed(progress, "already_cancelled")
    if isinstance(event, ev.Text):
        event = _read_text(instrument, progress, event.text)
    if progress.status == "confirm_cancel":
        return _confirming(instrument, progress, event)
    question = instrument.question(progress.history[-1])
    match event:
        case ev.Choose(value=value, question=code):
            if code is not None and code != question.code:
                return progress, _ask(instrument, progress, ("stale",), accepted=False)
            chosen = _option_value(question, value)
            if chosen is None:
                return _unclear(instrument, progress, question)
            return _advance(instrument, progress, question, chosen)
        case ev.Skip(question=code) | ev.NotApplicable(question=code) | ev.Back(question=code) if code not in (
                None, question.code):
            return progress, _ask(instrument, progress, ("stale",), accepted=False)
        case ev.Skip():
            if question.required:
                return progress, _ask(instrument, progress, ("required",), accepted=False)
            return _advance(instrument, progress, question, SKIPPED)
        case ev.NotApplicable():
            if not question.allow_na:
                return progress, _ask(instrument, progress, ("na_not_allowed",), accepted=False)
            return _advance(instrument, progress, question, NOT_APPLICABLE)
        case ev.Back():
            return _back(instrument, progress)
        case ev.SetLanguage(language=lang):
            if lang not in instrument.languages:
                return progress, _ask(instrument, progress, ("language_unknown",), accepted=False)
            changed = progress.evolve(language=lang)
            return changed, _ask(instrument, changed, ("language_set",))
        case ev.Help():
            return progress, _ask(instrument, progress, ("help",), accepted=False)
        case ev.Cancel(confirmed=True):
            return _cancelled(progress)
        case ev.Cancel():
            asking = progress.evolve(status="confirm_cancel")
            return asking, _confirm_reply(asking)
        case ev.Start() | ev.Resume():
            return progress, _ask(instrument, progress, (), accepted=False)
        case _FreeText(text=text) if question.type == "text":
            return _answer_text(instrument, progress, question, text)
        case ev.Unsupported():
            return progress, _ask(instrument, progress, ("unsupported",), accepted=False)
        case _:
            return _unclear(instrument, progress, question)


class _FreeText(ev.Text):
    """Typed text that is neither an option nor a command: a comment, or something unclear."""


def _read_text(instrument: Instrument, progress: Progress, text: str) -> ev.Event:
    """Turn typed text into the event it stands for, given the question being asked."""
    question = instrument.question(progress.history[-1]) if progress.history else None
    if progress.status == "active" and question is not None and question.type != "text":
        number = parse_number(text)
        for position, option in enumerate(question.options):
            if number is not None and question.key_for(position, option) == str(number):
                return ev.Choose(option.value)
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
            return _FreeText(text)
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
    return _FreeText(text)


def _confirming(instrument: Instrument, progress: Progress, event: ev.Event) -> tuple[Progress, Reply]:
    """While a cancel waits for confirmation: yes stops, anything else resumes (and is then applied)."""
    if isinstance(event, ev.Cancel) and event.confirmed:
        return _cancelled(progress)
    if isinstance(event, ev.Cancel):
        return progress, _confirm_reply(progress)
    resumed = progress.evolve(status="active")
    if isinstance(event, ev.Resume | _FreeText | ev.Help | ev.Unsupported | ev.Start):
        return resumed, _ask(instrument, resumed, ("resumed",))
    after, reply = step(instrument, resumed, event)
    # Leaving the confirmation is itself a change, even when the event then turns out unclear.
    return after, replace(reply, accepted=True)


def _option_value(question: Question, value: int | str) -> int | str | None:
    """The option a button carried: its value (numbers may arrive as strings), else its typed key."""
    for option in question.options:
        if option.value == value or str(option.value) == str(value):
            return option.value
    for position, option in enumerate(question.options):
        if question.key_for(position, option) == str(value):
            return option.value
    return None


def _answer_text(instrument: Instrument, progress: Progress, question: Question, text: str) -> tuple[
        Progress, Reply]:
    cleaned = normalize_text(text)
    if not cleaned:
        return progress, _ask(instrument, progress, ("empty_text",), accepted=False)
    limit = question.max_length or len(cleaned)
    notices = (say("text_cut", progress.language, limit=limit),) if len(cleaned) > limit else ()
    return _advance(instrument, progress, question, cleaned[:limit].rstrip(), notices)


def _advance(instrument: Instrument, progress: Progress, question: Question, value: AnswerValue,
             notices: tuple[str, ...] = ()) -> tuple[Progress, Reply]:
    """Record ``value`` for the current question and move to the next visible one, or complete."""
    answers = {**progress.answers, question.code: value}
    questions = instrument.questions(progress.sections)
    position = next(i for i, q in enumerate(questions) if q.code == question.code)
    following = [q for q in questions[position + 1:] if q.show_if is None or q.show_if.holds(answers)]
    if not following:
        final = {code: answers[code] for code in progress.history}
        done = progress.evolve(answers=final, status="completed")
        reply = Reply("completed", done.language, notices=notices, closing=say("completed", done.language),
                      answers=final)
        return done, reply
    moved = progress.evolve(answers=answers, history=(*progress.history, following[0].code))
    return moved, _ask(instrument, moved, notices)


def _back(instrument: Instrument, progress: Progress) -> tuple[Progress, Reply]:
    if len(progress.history) < 2:
        return progress, _ask(instrument, progress, ("first_question",), accepted=False)
    left = progress.history[-1]
    answers = {code: value for code, value in progress.answers.items() if code != left}
    moved = progress.evolve(history=progress.history[:-1], answers=answers)
    return moved, _ask(instrument, moved)


def _unclear(instrument: Instrument, progress: Progress, question: Question) -> tuple[Progress, Reply]:
    key = {"rating": "unclear_rating", "choice": "unclear_choice"}.get(question.type, "empty_text")
    return progress, _ask(instrument, progress, (key,), accepted=False)


def _cancelled(progress: Progress) -> tuple[Progress, Reply]:
    stopped = progress.evolve(status="cancelled")
    return stopped, Reply("cancelled", stopped.language, closing=say("cancelled", stopped.language))


def _closed(progress: Progress, key: str) -> Reply:
    return Reply(progress.status, progress.language, accepted=False, closing=say(key, progress.language))


def _confirm_reply(progress: Progress) -> Reply:
    lang = progress.language
    commands: tuple[CommandName, ...] = ("yes", "no")
    return Reply("confirm_cancel", lang, notices=(say("confirm_cancel", lang),), commands=commands,
                 command_labels={c: say(f"cmd_{c}", lang) for c in commands})


def _visible(instrument: Instrument, sections: frozenset[str], answers: Mapping[str, AnswerValue]) -> list[Question]:
    return [q for q in instrument.questions(sections) if q.show_if is None or q.show_if.holds(answers)]


def _ask(instrument: Instrument, progress: Progress, notices: tuple[str, ...] = (), accepted: bool = True) -> Reply:
    """The reply that (re)asks the current question, after ``notices`` (message keys or ready texts)."""
    lang = progress.language
    question = instrument.question(progress.history[-1])
    visible = _visible(instrument, progress.sections, progress.answers)
    codes = [q.code for q in visible]
    number = codes.index(question.code) + 1 if question.code in codes else len(progress.history)
    options = tuple(
        OptionView(o.value, o.label.get(lang), question.key_for(i, o)) for i, o in enumerate(question.options)
    )
    current = None
    if question.code in progress.answers:
        previous = progress.answers[question.code]
        label = question.label_for(previous, lang) if question.type != "text" else previous
        if previous == NOT_APPLICABLE:
            label = say("cmd_na", lang)
        if label is not None:
            current = say("current_answer", lang, label=label)
    total = max(len(visible), number)
    view = QuestionView(
        code=question.code, type=question.type, text=question.text.get(lang), number=number, total=total,
        progress=say("progress", lang, number=number, total=total), options=options,
        hint=question.hint.get(lang) if question.hint else None,
        section_title=_section_title(instrument, question.section, lang), max_length=question.max_length,
        current_answer=current,
    )
    commands: list[CommandName] = []
    if question.allow_na:
        commands.append("na")
    if not question.required:
        commands.append("skip")
    if len(progress.history) > 1:
        commands.append("back")
    commands += ["help", "cancel", "lang_en" if lang == "vi" else "lang_vi"]
    texts = tuple(say(n, lang) if n in _NOTICE_KEYS else n for n in notices)
    return Reply("active", lang, accepted=accepted, notices=texts, question=view, commands=tuple(commands),
                 command_labels={c: say(f"cmd_{c}", lang) for c in commands})


def _section_title(instrument: Instrument, code: str, language: str) -> str | None:
    return next((s.title.get(language) for s in instrument.sections if s.code == code), None)


_NOTICE_KEYS = frozenset({
    "stale", "required", "na_not_allowed", "language_unknown", "language_set", "help", "unsupported",
    "unclear_rating", "unclear_choice", "empty_text", "first_question", "resumed",
})
