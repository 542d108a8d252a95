"""The texts catalogue (bot/locale/*.yaml): every entry in both languages with the same placeholders, and
every text the code names exists."""

import ast
import re
import string
from pathlib import Path

import pytest
import yaml

from bot.texts import LANGUAGES, catalogue

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "bot" / "locale"


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_every_locale_file_is_in_the_catalogue():
    files = sorted(LOCALE.glob("*.yaml"))
    assert {path.stem for path in files} >= {"citizen", "admin"}
    names = set(catalogue())
    for path in files:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        assert entries, path.name
        assert {f"{path.stem}.{key}" for key in entries} <= names, path.name


@pytest.mark.parametrize("name", sorted(catalogue()))
def test_entry_has_both_languages_with_the_same_placeholders(name):
    by_language = catalogue()[name]
    assert isinstance(name.split(".", 1)[1], str) and set(by_language) == set(LANGUAGES), name
    for language in LANGUAGES:
        assert isinstance(by_language[language], str) and by_language[language].strip(), (name, language)
    assert placeholders(by_language["vi"]) == placeholders(by_language["en"]), name


def names_used_in_code() -> dict[str, str]:
    """Every `say("file.key", ...)`, `UserError.say(...)` and `UserError.term(...)` with a constant first argument
    in bot/ and adapters/, with where it is."""
    used = {}
    for path in sorted([*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("adapters").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0]
            if called in ("say", "term") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                used[first.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return used


def test_every_name_used_in_the_code_exists():
    used = names_used_in_code()
    assert len(used) > 50  # the walk finds the CLI's texts (it would pass vacuously if it found none)
    missing = {name: where for name, where in used.items() if name not in catalogue()}
    assert not missing


def test_every_what_passed_to_the_directory_checks_has_a_text():
    # directory.normalize_code/normalize_name build the text name from their `what` argument.
    source = (ROOT / "bot" / "survey" / "directory.py").read_text(encoding="utf-8")
    whats = {"code", "name"}
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("normalize_code", "normalize_name") and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)):
            whats.add(node.args[1].value)
    assert len(whats) > 4
    for what in whats:
        assert f"admin.what_{what.replace(' ', '_')}" in catalogue(), what


def test_vietnamese_texts_have_diacritics():
    # A Vietnamese text written without its marks ("khong co") reads as a different language; each admin text
    # that has letters has at least one letter outside ASCII, unless it is only codes and settings.
    def words(text: str) -> str:
        return "".join(literal for literal, _, _, _ in string.Formatter().parse(text))

    plain = {name for name, texts in catalogue().items()
             if name.startswith("admin.") and words(texts["vi"]).isascii() and any(c.isalpha() for c in
                                                                                  words(texts["vi"]))}
    assert plain == {"admin.label_token"}, plain  # "token:" is the word the printed links use


def test_no_locale_file_names_a_text_twice():
    # YAML keeps the last of two equal keys silently: two branches adding the same name would lose one text.
    from collections import Counter
    from importlib import resources

    for entry in resources.files("bot").joinpath("locale").iterdir():
        if entry.name.endswith(".yaml"):
            names = Counter(re.findall(r"^([\w.-]+):", entry.read_text(encoding="utf-8"), re.M))
            assert [name for name, count in names.items() if count > 1] == [], entry.name
