"""The instrument format: check a parsed YAML document and build the `Instrument` from it.

The format (one file per instrument version, see the README section "Adding an instrument")::

    id: sipas-quick                 # lower case letters, digits and dashes
    version: 1                      # a positive integer; a change after the first response is a new version
    languages: [vi, en]             # the first is the default; every citizen-facing text has all of them
    title: {vi: "...", en: "..."}
    description: {vi: "...", en: "..."}   # optional, shown at the start
    elements:                       # the scored elements, code -> name
      access: {vi: Tiếp cận dịch vụ, en: Access to the service}
    scales:                         # named option lists that questions share
      satisfaction5:
        - {value: 5, label: {vi: Rất hài lòng, en: Very satisfied}}
    sections:
      - code: service
        title: {vi: "...", en: "..."}
        lead: {vi: "...", en: "..."}  # optional, said before the section's first question
        optional: false             # optional sections are asked only when enabled at the start
        questions:
          - code: access_1
            type: rating            # rating (scored, 1..5, needs element), choice or text
            element: access
            scale: satisfaction5    # or options: [...] inline
            text: {vi: "...", en: "..."}
            short: {vi: "...", en: "..."}   # optional short label for reports
            hint: {vi: "...", en: "..."}    # optional
            required: false
            allow_na: true
            max_length: 1000        # text questions only (required there)
            show_if: {code: mode, in: [1, 3]}

Any mistake raises `InstrumentError` naming the file, the question code (when there is one) and what is wrong.
Nothing half-built is ever returned. Reading the files themselves (and the YAML syntax) is ``surveys.loader``'s.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from surveys.instrument import NOT_APPLICABLE, Condition, Instrument, LocalText, Option, Question, Section

ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
QUESTION_TYPES = ("rating", "choice", "text")
RATING_VALUES = {1, 2, 3, 4, 5}
TOP_LEVEL_KEYS = frozenset({"id", "version", "languages", "title", "description", "elements", "scales", "sections"})
SECTION_KEYS = frozenset({"code", "title", "lead", "optional", "questions"})


class InstrumentError(ValueError):
    """An instrument file is broken; the message names the file, the question and the problem."""

    def __init__(self, file: str, problem: str, code: str | None = None) -> None:
        self.file = file
        self.code = code
        self.problem = problem
        where = f"{file}: question {code}" if code else file
        super().__init__(f"{where}: {problem}")


class _Reader:
    """Validates one parsed YAML document; every error names the file and the question being read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.code: str | None = None
        self.languages: tuple[str, ...] = ()

    def fail(self, problem: str) -> InstrumentError:
        return InstrumentError(self.file, problem, self.code)

    def text(self, raw: Any, what: str) -> LocalText:
        if not isinstance(raw, Mapping):
            raise self.fail(f"{what} must give a text per language ({', '.join(self.languages)})")
        not_text = [lang for lang in self.languages if raw.get(lang) is not None and not isinstance(raw[lang], str)]
        if not_text:
            # YAML reads `en: Yes` as a boolean and `vi: 5` as a number; quoting the text fixes it.
            raise self.fail(f"{what} in {', '.join(not_text)} is not text (put it in quotes)")
        missing = [lang for lang in self.languages if not str(raw.get(lang) or "").strip()]
        if missing:
            raise self.fail(f"{what} has no {', '.join(missing)} text")
        return LocalText({lang: unicodedata.normalize("NFC", str(raw[lang]).strip()) for lang in self.languages})

    def options(self, raw: Any, scales: Mapping[str, tuple[Option, ...]], spec: Mapping) -> tuple[Option, ...]:
        if "scale" in spec and "options" in spec:
            raise self.fail("give either 'scale' or 'options', not both")
        if "scale" in spec:
            if spec["scale"] not in scales:
                raise self.fail(f"scale '{spec['scale']}' is not defined under 'scales'")
            return scales[spec["scale"]]
        if raw is None:
            raise self.fail("needs 'options' or 'scale'")
        return self.option_list(raw, "options")

    def option_list(self, raw: Any, what: str) -> tuple[Option, ...]:
        if not isinstance(raw, list) or len(raw) < 2:
            raise self.fail(f"{what} must be a list of at least two options")
        options: list[Option] = []
        for item in raw:
            if not isinstance(item, Mapping) or "value" not in item:
                raise self.fail(f"every entry of {what} needs a 'value' and a 'label'")
            value = item["value"]
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise self.fail(f"option value {value!r} must be a whole number or a code")
            if isinstance(value, str) and (not CODE_PATTERN.match(value) or value.upper() == NOT_APPLICABLE):
                raise self.fail(f"option value '{value}' must be a lower-case code other than 'na'")
            options.append(Option(value, self.text(item.get("label"), f"option {value!r} label")))
        values = [o.value for o in options]
        if len(set(values)) != len(values):
            raise self.fail(f"{what} repeat a value")
        if len({type(v) for v in values}) > 1:
            raise self.fail(f"{what} mix numbers and codes")
        return tuple(options)


def _question(reader: _Reader, raw: Any, section: str, scales, elements, seen: dict[str, Question]) -> Question:
    if not isinstance(raw, Mapping) or "code" not in raw:
        raise reader.fail(f"every question in section '{section}' needs a 'code'")
    code = str(raw["code"])
    reader.code = code
    if not CODE_PATTERN.match(code):
        raise reader.fail("code must be lower case letters, digits and '_', starting with a letter")
    if code in seen:
        raise reader.fail("code is used twice")
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        raise reader.fail(f"type {qtype!r} is not one of {', '.join(QUESTION_TYPES)}")
    known = {"code", "type", "text", "short", "hint", "element", "scale", "options", "required", "allow_na",
             "max_length", "show_if"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise reader.fail(f"unknown field(s): {', '.join(unknown)}")
    for flag in ("required", "allow_na"):
        if not isinstance(raw.get(flag, False), bool):
            raise reader.fail(f"'{flag}' must be true or false")
    text = reader.text(raw.get("text"), "text")
    options: tuple[Option, ...] = ()
    element = raw.get("element")
    max_length = raw.get("max_length")
    if qtype in ("rating", "choice"):
        options = reader.options(raw.get("options"), scales, raw)
    elif "options" in raw or "scale" in raw:
        raise reader.fail("a text question has no 'options' or 'scale'")
    if qtype == "rating":
        if element not in elements:
            raise reader.fail(f"element {element!r} is not one of the elements ({', '.join(elements)})")
        if {o.value for o in options} != RATING_VALUES:
            raise reader.fail("a rating question must use a scale with exactly the values 1 to 5")
    elif element is not None:
        raise reader.fail("only rating questions have an element")
    if qtype == "text":
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= 4000:
            raise reader.fail("a text question needs 'max_length' between 1 and 4000")
        if raw.get("allow_na"):
            raise reader.fail("a text question cannot allow 'not applicable'")
    elif max_length is not None:
        raise reader.fail("only text questions have 'max_length'")
    return Question(
        code=code, type=qtype, text=text, section=section, options=options, element=element,
        required=bool(raw.get("required", False)), allow_na=bool(raw.get("allow_na", False)),
        max_length=max_length,
        hint=reader.text(raw["hint"], "hint") if raw.get("hint") is not None else None,
        short=reader.text(raw["short"], "short") if raw.get("short") is not None else None,
        show_if=_condition(reader, raw.get("show_if"), seen),
    )


def _condition(reader: _Reader, raw: Any, seen: Mapping[str, Question]) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or "code" not in raw or ("in" not in raw and "equals" not in raw):
        raise reader.fail("show_if needs 'code' and 'in' (a list) or 'equals'")
    target = seen.get(str(raw["code"]))
    if target is None:
        raise reader.fail(f"show_if refers to '{raw['code']}', which is not an earlier question")
    if target.type == "text":
        raise reader.fail(f"show_if cannot depend on the text question '{target.code}'")
    if "in" in raw and not isinstance(raw["in"], list):
        raise reader.fail("show_if 'in' must be a list of option values, such as [1, 3]")
    values = tuple(raw["in"]) if "in" in raw else (raw["equals"],)
    bad = [v for v in values if v not in target.option_values()]
    if bad or not values:
        raise reader.fail(f"show_if value(s) {bad or values} are not options of '{target.code}'")
    return Condition(target.code, values)


def _no_unknown_keys(reader: _Reader, raw: Mapping, known: frozenset[str], where: str) -> None:
    # A typo such as `optinal: true` must not be silently ignored.
    unknown = sorted(str(key) for key in set(raw) - known)
    if unknown:
        raise reader.fail(f"unknown field(s) in {where}: {', '.join(unknown)}")


def parse_instrument(document: Any, file: str) -> Instrument:
    """Validate a parsed YAML document and build the `Instrument`.

    Args:
        document: What ``yaml.safe_load`` returned for the file.
        file: The file name, used in error messages and as the instrument's ``source``.

    Returns:
        The instrument, immutable and fully checked.

    Raises:
        InstrumentError: If the document breaks a rule of the format; it names the file, the question code
            and the problem.
    """
    reader = _Reader(file)
    if not isinstance(document, Mapping):
        raise reader.fail("the file must hold a mapping with 'id', 'version', 'languages' and 'sections'")
    _no_unknown_keys(reader, document, TOP_LEVEL_KEYS, "the top level")
    instrument_id = document.get("id")
    if not isinstance(instrument_id, str) or not ID_PATTERN.match(instrument_id):
        raise reader.fail(f"id {instrument_id!r} must be lower-case letters, digits and dashes")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise reader.fail(f"version {version!r} must be a positive whole number")
    languages = document.get("languages")
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
        raise reader.fail("languages must be a list such as [vi, en]")
    reader.languages = tuple(languages)
    elements_raw = document.get("elements") or {}
    if not isinstance(elements_raw, Mapping):
        raise reader.fail("elements must map element codes to names")
    elements = {str(k): reader.text(v, f"element '{k}'") for k, v in elements_raw.items()}
    scales_raw = document.get("scales") or {}
    if not isinstance(scales_raw, Mapping):
        raise reader.fail("scales must map scale names to option lists")
    scales = {str(k): reader.option_list(v, f"scale '{k}'") for k, v in scales_raw.items()}
    sections_raw = document.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        raise reader.fail("sections must be a non-empty list")
    seen: dict[str, Question] = {}
    sections: list[Section] = []
    for raw in sections_raw:
        reader.code = None
        if not isinstance(raw, Mapping) or not CODE_PATTERN.match(str(raw.get("code", ""))):
            raise reader.fail("every section needs a lower-case 'code'")
        code = str(raw["code"])
        _no_unknown_keys(reader, raw, SECTION_KEYS, f"section '{code}'")
        if not isinstance(raw.get("optional", False), bool):
            raise reader.fail(f"section '{code}': 'optional' must be true or false")
        title = reader.text(raw.get("title"), f"section '{code}' title")
        questions = []
        for item in raw.get("questions") or []:
            question = _question(reader, item, code, scales, elements, seen)
            seen[question.code] = question
            questions.append(question)
        reader.code = None
        if not questions:
            raise reader.fail(f"section '{code}' has no questions")
        lead = reader.text(raw["lead"], f"section '{code}' lead") if raw.get("lead") else None
        sections.append(Section(code, title, tuple(questions), optional=bool(raw.get("optional", False)), lead=lead))
    if len({s.code for s in sections}) != len(sections):
        raise reader.fail("two sections share a code")
    return Instrument(
        id=instrument_id, version=version, languages=reader.languages,
        title=reader.text(document.get("title"), "title"),
        description=reader.text(document["description"], "description") if document.get("description") else None,
        sections=tuple(sections), elements=elements, source=file,
    )
