"""Instrument files: the good ones load, each broken one gives an error naming file, question and problem."""

import copy
from pathlib import Path

import pytest
import yaml

from surveys.loader import InstrumentError, load_builtin, load_file

MINI_PATH = Path(__file__).parent / "fixtures" / "mini.yaml"
MINI = yaml.safe_load(MINI_PATH.read_text(encoding="utf-8"))


def question(doc, code):
    return next(q for s in doc["sections"] for q in s["questions"] if q["code"] == code)


def broken(tmp_path, change) -> InstrumentError:
    doc = copy.deepcopy(MINI)
    change(doc)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_file(path)
    return caught.value


def test_the_fixture_and_the_shipped_instruments_load():
    mini = load_file(MINI_PATH)
    assert (mini.id, mini.version, mini.languages) == ("mini-test", 2, ("vi", "en"))
    assert mini.criteria() == {"access_1": "access", "feedback_1": "feedback"}
    assert [q.code for q in mini.questions()] == ["mode", "kiosk", "access_1", "feedback_1", "comment"]
    assert set(load_builtin()) == {"sipas-2023", "sipas-2017", "sipas-quick", "zns-rating"}


def set_in(code, key, value):
    return lambda doc: question(doc, code).__setitem__(key, value)


def drop_in(code, key):
    return lambda doc: question(doc, code).pop(key)


CASES = [
    ("duplicate code", lambda d: d["sections"][1]["questions"].append(copy.deepcopy(question(d, "access_1"))),
     "access_1", "code is used twice"),
    ("unknown element", set_in("access_1", "element", "acces"), "access_1", "element 'acces' is not one of"),
    ("missing English", lambda d: question(d, "access_1")["text"].pop("en"), "access_1", "text has no en text"),
    ("blank Vietnamese", lambda d: question(d, "comment")["text"].__setitem__("vi", "  "), "comment",
     "text has no vi text"),
    ("bad type", set_in("mode", "type", "slider"), "mode", "type 'slider' is not one of rating, choice, text"),
    ("rating scale not 1-5", lambda d: d["scales"]["satisfaction5"].pop(), "access_1",
     "exactly the values 1 to 5"),
    ("undefined scale", set_in("access_1", "scale", "nope"), "access_1", "scale 'nope' is not defined"),
    ("text without max_length", drop_in("comment", "max_length"), "comment", "needs 'max_length'"),
    ("choice without options", drop_in("mode", "options"), "mode", "needs 'options' or 'scale'"),
    ("repeated option value",
     lambda d: question(d, "mode")["options"].append(copy.deepcopy(question(d, "mode")["options"][0])),
     "mode", "repeat a value"),
    ("option value 'na'", lambda d: question(d, "kiosk")["options"][0].__setitem__("value", "na"), "kiosk",
     "other than 'na'"),
    ("show_if on a later question", set_in("mode", "show_if", {"code": "kiosk", "equals": "not_used"}), "mode",
     "not an earlier question"),
    ("show_if value not an option", set_in("kiosk", "show_if", {"code": "mode", "in": [7]}), "kiosk",
     "are not options of 'mode'"),
    ("unknown field", set_in("mode", "colour", "red"), "mode", "unknown field(s): colour"),
    ("required not a boolean", set_in("mode", "required", "yes"), "mode", "'required' must be true or false"),
    ("bad code", set_in("comment", "code", "Comment!"), "Comment!", "code must be lower case"),
    ("element on a choice", set_in("mode", "element", "access"), "mode", "only rating questions have an element"),
    ("unquoted Yes read as a boolean", lambda d: question(d, "kiosk")["options"][0]["label"].__setitem__("en", True),
     "kiosk", "option 'yes_used' label in en is not text (put it in quotes)"),
    ("options on a text question", set_in("comment", "scale", "satisfaction5"), "comment",
     "a text question has no 'options' or 'scale'"),
    ("show_if in not a list", set_in("kiosk", "show_if", {"code": "mode", "in": "12"}), "kiosk",
     "'in' must be a list"),
]


@pytest.mark.parametrize("change, code, problem", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_question_names_file_code_and_problem(tmp_path, change, code, problem):
    error = broken(tmp_path, change)
    assert error.file == "broken.yaml" and error.code == code
    assert problem in str(error)
    assert str(error).startswith(f"broken.yaml: question {code}: ")


@pytest.mark.parametrize("change, problem", [
    (lambda d: d.__setitem__("id", "Bad Id"), "id 'Bad Id' must be"),
    (lambda d: d.__setitem__("version", 0), "version 0 must be a positive whole number"),
    (lambda d: d.__setitem__("languages", "vi"), "languages must be a list"),
    (lambda d: d.__setitem__("sections", []), "sections must be a non-empty list"),
    (lambda d: d["title"].pop("en"), "title has no en text"),
    (lambda d: d["sections"][1].__setitem__("code", "intro"), "two sections share a code"),
    (lambda d: d["sections"][2].__setitem__("optinal", True), "unknown field(s) in section 'extra': optinal"),
    (lambda d: d["sections"][2].__setitem__("optional", "false"), "'optional' must be true or false"),
    (lambda d: d.__setitem__("titel", {}), "unknown field(s) in the top level: titel"),
])
def test_broken_instrument_level_errors(tmp_path, change, problem):
    error = broken(tmp_path, change)
    assert error.code is None and str(error).startswith("broken.yaml: ") and problem in str(error)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nsections: [\n  {code: a\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"^bad\.yaml: is not valid YAML at line \d+, column \d+"):
        load_file(path)


def test_unreadable_or_non_utf8_file(tmp_path):
    with pytest.raises(InstrumentError, match=r"missing\.yaml: cannot be read"):
        load_file(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: Ti\xeap c\xe2n".encode("latin-1"))
    with pytest.raises(InstrumentError, match=r"latin\.yaml: cannot be read"):
        load_file(latin)


def test_texts_are_nfc_normalised(tmp_path):
    doc = copy.deepcopy(MINI)
    question(doc, "comment")["text"]["vi"] = "Y\u0301 kie\u0302\u0301n kha\u0301c"  # decomposed "Ý kiến khác"
    path = tmp_path / "nfd.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert load_file(path).question("comment").text.get("vi") == "Ý kiến khác"
