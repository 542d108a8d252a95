"""The replies the engine gives, all in the conversation's language.

The current question as a `QuestionView`, the answer just given as an `AnswerView`, the confirmation prompt and
the closing messages.
"""

from __future__ import annotations

from collections.abc import Mapping

from surveys.events import AnswerView, CommandName, OptionView, QuestionView, Reply
from surveys.instrument import NOT_APPLICABLE, SKIPPED, AnswerValue, Instrument, Question
from surveys.messages import say
from surveys.progress import Progress


def introduction(instrument: Instrument, progress: Progress) -> tuple[str, ...]:
    """The instrument's description in the conversation's language, with its placeholders filled in.

    ``{questions}`` becomes the number of questions of the sections switched on, ``{minutes}`` the time they take
    (about four short questions a minute).
    """
    if not instrument.description:
        return ()
    count = len(instrument.questions(progress.sections))
    text = instrument.description.get(progress.language)
    return (text.replace("{questions}", str(count)).replace("{minutes}", str(max(1, -(-count // 4)))),)


def answer_view(instrument: Instrument, progress: Progress, question: Question, value: AnswerValue) -> AnswerView:
    """How the answer ``value`` to ``question`` is shown once given (for closing that question's message)."""
    lang = progress.language
    number, total = numbering(instrument, progress, question)
    key = None
    if value is SKIPPED:
        kind, label = "skip", say("cmd_skip", lang)
    elif value == NOT_APPLICABLE:
        kind, label = "na", say("cmd_na", lang)
    elif question.type == "text":
        kind, label = "text", str(value)
    else:
        position, option = next((i, o) for i, o in enumerate(question.options) if o.value == value)
        kind, label, key = "option", option.label.get(lang), question.key_for(position, option)
    return AnswerView(question.code, say("progress", lang, number=number, total=total), question.text.get(lang),
                      label, key, kind)


def numbering(instrument: Instrument, progress: Progress, question: Question) -> tuple[int, int]:
    """The question's number among those shown now, and how many there are."""
    codes = [q.code for q in visible(instrument, progress.sections, progress.answers)]
    number = codes.index(question.code) + 1 if question.code in codes else len(progress.history)
    return number, max(len(codes), number)


def closed(progress: Progress, key: str) -> Reply:
    """The reply to any event on a survey that is over: the message ``key``, nothing accepted."""
    return Reply(progress.status, progress.language, accepted=False, closing=say(key, progress.language))


def confirm_reply(progress: Progress) -> Reply:
    """The question "stop the survey?" with its yes and no commands."""
    lang = progress.language
    commands: tuple[CommandName, ...] = ("yes", "no")
    return Reply("confirm_cancel", lang, notices=(say("confirm_cancel", lang),), commands=commands,
                 command_labels={c: say(f"cmd_{c}", lang) for c in commands})


def visible(instrument: Instrument, sections: frozenset[str], answers: Mapping[str, AnswerValue]) -> list[Question]:
    """The questions asked given the sections switched on and the answers so far (``show_if``)."""
    return [q for q in instrument.questions(sections) if q.show_if is None or q.show_if.holds(answers)]


def ask(instrument: Instrument, progress: Progress, notices: tuple[str, ...] = (), accepted: bool = True) -> Reply:
    """The reply that (re)asks the current question, after ``notices`` (message keys or ready texts)."""
    lang = progress.language
    question = instrument.question(progress.history[-1])
    number, total = numbering(instrument, progress, question)
    options = tuple(
        OptionView(o.value, o.label.get(lang), question.key_for(i, o)) for i, o in enumerate(question.options)
    )
    current, previous = None, None
    if question.code in progress.answers:
        previous = progress.answers[question.code]
        label = question.label_for(previous, lang) if question.type != "text" else previous
        if previous == NOT_APPLICABLE:
            label = say("cmd_na", lang)
        if label is not None:
            current = say("current_answer", lang, label=label)
    view = QuestionView(
        code=question.code, type=question.type, text=question.text.get(lang), number=number, total=total,
        progress=say("progress", lang, number=number, total=total), options=options,
        hint=question.hint.get(lang) if question.hint else None,
        section_title=_section_title(instrument, question.section, lang),
        section_lead=_section_lead(instrument, progress, question, lang), max_length=question.max_length,
        current_answer=current, current_value=previous,
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


def _section_lead(instrument: Instrument, progress: Progress, question: Question, language: str) -> str | None:
    """The lead-in of the question's section when it is the first question shown of that section."""
    section = next(s for s in instrument.sections if s.code == question.section)
    if section.lead is None:
        return None
    shown = [q for q in visible(instrument, progress.sections, progress.answers) if q.section == section.code]
    return section.lead.get(language) if shown and shown[0].code == question.code else None


def _section_title(instrument: Instrument, code: str, language: str) -> str | None:
    return next((s.title.get(language) for s in instrument.sections if s.code == code), None)


_NOTICE_KEYS = frozenset({
    "stale", "required", "na_not_allowed", "language_unknown", "language_set", "help", "unsupported",
    "unclear_rating", "unclear_choice", "empty_text", "first_question", "resumed",
})
