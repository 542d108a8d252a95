"""An instrument (one questionnaire version) as plain, immutable data.

Instruments are written as YAML files (see `surveys.loader`) and turned into these objects once at start-up.
Nothing here does I/O; the engine and the scoring only read these objects.

Answer values:
    * a rating question records an ``int`` from its scale (1..5 for SIPAS criteria);
    * a choice question records one of its option values (``int`` or ``str``);
    * a text question records the (normalised, capped) text;
    * ``SKIPPED`` (``None``) means the question was shown and skipped;
    * ``NOT_APPLICABLE`` (``"NA"``) means the citizen chose "Không áp dụng".

A question that was never shown (hidden by ``show_if`` or in a disabled section) has no entry at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

SKIPPED = None
NOT_APPLICABLE = "NA"

QuestionType = Literal["rating", "choice", "text"]
AnswerValue = int | str | None


@dataclass(frozen=True)
class LocalText:
    """A citizen-facing text in every language of the instrument."""

    by_language: Mapping[str, str]

    def get(self, language: str) -> str:
        """Return the text in ``language``, falling back to Vietnamese, then to any language."""
        if language in self.by_language:
            return self.by_language[language]
        if "vi" in self.by_language:
            return self.by_language["vi"]
        return next(iter(self.by_language.values()))


@dataclass(frozen=True)
class Option:
    """One answer option of a rating or choice question."""

    value: int | str
    label: LocalText


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier question's answer is one of ``values``."""

    code: str
    values: tuple[int | str, ...]

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        """True when the earlier question was answered with one of the values."""
        return self.code in answers and answers[self.code] in self.values


@dataclass(frozen=True)
class Question:
    """One question: a scored rating criterion, a coded single choice, or free text."""

    code: str
    type: QuestionType
    text: LocalText
    section: str
    options: tuple[Option, ...] = ()
    element: str | None = None
    required: bool = False
    allow_na: bool = False
    max_length: int | None = None
    hint: LocalText | None = None
    short: LocalText | None = None
    show_if: Condition | None = None

    @property
    def scored(self) -> bool:
        """True for rating questions, which count in the SIPAS measures."""
        return self.type == "rating"

    def option_values(self) -> tuple[int | str, ...]:
        """The values an answer to this question may take (besides skipped and not applicable)."""
        return tuple(option.value for option in self.options)

    def key_for(self, position: int, option: Option) -> str:
        """What a citizen types to pick ``option``: its value when it is a number, else its 1-based position."""
        if isinstance(option.value, int):
            return str(option.value)
        return str(position + 1)

    def label_for(self, value: AnswerValue, language: str) -> str | None:
        """The label of an option value in ``language``, or ``None`` if the value is not an option."""
        for option in self.options:
            if option.value == value:
                return option.label.get(language)
        return None


@dataclass(frozen=True)
class Section:
    """A titled group of questions; an optional section is asked only when enabled at the start."""

    code: str
    title: LocalText
    questions: tuple[Question, ...]
    optional: bool = False
    lead: LocalText | None = None  # the lead-in said before the section's first question ("Xin Ông/Bà cho biết…")


@dataclass(frozen=True)
class Instrument:
    """One version of a questionnaire, as loaded from its YAML file."""

    id: str
    version: int
    title: LocalText
    languages: tuple[str, ...]
    sections: tuple[Section, ...]
    elements: Mapping[str, LocalText]
    description: LocalText | None = None
    source: str = ""
    _by_code: Mapping[str, Question] = field(default_factory=dict, repr=False, compare=False)

    _criteria: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {q.code: q for s in self.sections for q in s.questions}
        object.__setattr__(self, "_by_code", index)
        # Computed once: importing and storing responses asks for it per row.
        scored = {q.code: q.element for s in self.sections for q in s.questions if q.scored and q.element}
        object.__setattr__(self, "_criteria", scored)

    @property
    def default_language(self) -> str:
        """The language used when the citizen has not chosen one (the first listed, Vietnamese)."""
        return self.languages[0]

    def questions(self, enabled_sections: frozenset[str] | None = None) -> tuple[Question, ...]:
        """All questions in order: every non-optional section, plus the optional ones named."""
        enabled = enabled_sections or frozenset()
        return tuple(
            q for s in self.sections if not s.optional or s.code in enabled for q in s.questions
        )

    def question(self, code: str) -> Question:
        """The question with this code (``KeyError`` if there is none)."""
        return self._by_code[code]

    def criteria(self) -> dict[str, str]:
        """Scored criteria in order, as {criterion code: element code}, over all sections (a fresh copy)."""
        return dict(self._criteria)

    def optional_sections(self) -> tuple[str, ...]:
        """Codes of the sections that are off unless asked for."""
        return tuple(s.code for s in self.sections if s.optional)
