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

from dataclasses import replace

from surveys import events as ev
from surveys.events import Reply
from surveys.instrument import NOT_APPLICABLE, SKIPPED, AnswerValue, Instrument, Question
from surveys.messages import say
from surveys.progress import Progress
from surveys.reading import FreeText, read_text
from surveys.replies import answer_view, ask, closed, confirm_reply, introduction, visible
from surveys.textmatch import normalize_text


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
    first = visible(instrument, enabled, {})[0]
    progress = Progress(instrument.id, instrument.version, lang, enabled, (first.code,), {})
    return progress, ask(instrument, progress, introduction(instrument, progress))


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
        return progress, closed(progress, "already_completed")
    if progress.status == "cancelled":
        return progress, closed(progress, "already_cancelled")
    if isinstance(event, ev.Text):
        event = read_text(instrument, progress, event.text)
    if progress.status == "confirm_cancel":
        return _confirming(instrument, progress, event)
    question = instrument.question(progress.history[-1])
    match event:
        case ev.Choose(value=value, question=code):
            if code is not None and code != question.code:
                return progress, ask(instrument, progress, ("stale",), accepted=False)
            chosen = _option_value(question, value)
            if chosen is None:
                return _unclear(instrument, progress, question)
            return _advance(instrument, progress, question, chosen)
        case ev.Skip(question=code) | ev.NotApplicable(question=code) | ev.Back(question=code) if code not in (
                None, question.code):
            return progress, ask(instrument, progress, ("stale",), accepted=False)
        case ev.Skip():
            if question.required:
                return progress, ask(instrument, progress, ("required",), accepted=False)
            return _advance(instrument, progress, question, SKIPPED)
        case ev.NotApplicable():
            if not question.allow_na:
                return progress, ask(instrument, progress, ("na_not_allowed",), accepted=False)
            return _advance(instrument, progress, question, NOT_APPLICABLE)
        case ev.Back():
            return _back(instrument, progress)
        case ev.SetLanguage(language=lang):
            if lang not in instrument.languages:
                return progress, ask(instrument, progress, ("language_unknown",), accepted=False)
            changed = progress.evolve(language=lang)
            # The introduction again, in the new language: the citizen may not have understood it the first time.
            return changed, ask(instrument, changed, ("language_set", *introduction(instrument, changed)))
        case ev.Help():
            return progress, ask(instrument, progress, ("help",), accepted=False)
        case ev.Cancel(confirmed=True):
            # A "yes, stop" button from an earlier confirmation: the citizen chose to continue since.
            return progress, ask(instrument, progress, ("stale",), accepted=False)
        case ev.Cancel():
            asking = progress.evolve(status="confirm_cancel")
            return asking, confirm_reply(asking)
        case ev.Start() | ev.Resume():
            return progress, ask(instrument, progress, (), accepted=False)
        case FreeText(text=text) if question.type == "text":
            return _answer_text(instrument, progress, question, text)
        case ev.Unsupported():
            return progress, ask(instrument, progress, ("unsupported",), accepted=False)
        case _:
            return _unclear(instrument, progress, question)


def _confirming(instrument: Instrument, progress: Progress, event: ev.Event) -> tuple[Progress, Reply]:
    """While a cancel waits for confirmation: yes stops, anything else resumes (and is then applied)."""
    if isinstance(event, ev.Cancel) and event.confirmed:
        return _cancelled(progress)
    if isinstance(event, ev.Cancel):
        return progress, confirm_reply(progress)
    resumed = progress.evolve(status="active")
    if isinstance(event, ev.Resume | FreeText | ev.Help | ev.Unsupported | ev.Start):
        return resumed, ask(instrument, resumed, ("resumed",))
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
        return progress, ask(instrument, progress, ("empty_text",), accepted=False)
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
                      answers=final, answered=answer_view(instrument, progress, question, value))
        return done, reply
    moved = progress.evolve(answers=answers, history=(*progress.history, following[0].code))
    return moved, replace(ask(instrument, moved, notices), answered=answer_view(instrument, progress, question,
                                                                                   value))


def _back(instrument: Instrument, progress: Progress) -> tuple[Progress, Reply]:
    if len(progress.history) < 2:
        return progress, ask(instrument, progress, ("first_question",), accepted=False)
    left = progress.history[-1]
    answers = {code: value for code, value in progress.answers.items() if code != left}
    moved = progress.evolve(history=progress.history[:-1], answers=answers)
    return moved, ask(instrument, moved)


def _unclear(instrument: Instrument, progress: Progress, question: Question) -> tuple[Progress, Reply]:
    key = {"rating": "unclear_rating", "choice": "unclear_choice"}.get(question.type, "empty_text")
    return progress, ask(instrument, progress, (key,), accepted=False)


def _cancelled(progress: Progress) -> tuple[Progress, Reply]:
    stopped = progress.evolve(status="cancelled")
    return stopped, Reply("cancelled", stopped.language, closing=say("cancelled", stopped.language))
