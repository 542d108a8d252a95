"""The instruments shipped in surveys/instruments/ against the contract of docs/sipas.md.

The loader already rejects files that break the format; these tests pin the content: codes, elements,
scales, which questions are unscored, required or allow "not applicable", and the quality of every
citizen-facing text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from surveys import engine
from surveys.instrument import Instrument, LocalText
from surveys.loader import load_builtin

SHIPPED = ("sipas-2023", "sipas-2017", "sipas-quick")
LANGUAGES = ("vi", "en")

ELEMENTS = {
    "access": ("Tiếp cận dịch vụ", "Access to the service"),
    "procedure": ("Thủ tục hành chính", "Administrative procedure"),
    "staff": ("Công chức trực tiếp giải quyết công việc", "Civil servant handling the case"),
    "result": ("Kết quả cung ứng dịch vụ", "Result of the service"),
    "feedback": ("Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "Handling of feedback and complaints"),
}

# Listed top to bottom, as the citizen sees them.
SATISFACTION5 = [
    (5, "Rất hài lòng", "Very satisfied"),
    (4, "Hài lòng", "Satisfied"),
    (3, "Bình thường", "Neutral"),
    (2, "Không hài lòng", "Dissatisfied"),
    (1, "Rất không hài lòng", "Very dissatisfied"),
]
EXPECT4_VI = ["Không mong muốn", "Khá mong muốn", "Mong muốn", "Rất mong muốn"]


def _criteria(*counts: tuple[str, int]) -> list[tuple[str, str]]:
    return [(f"{element}_{k}", element) for element, n in counts for k in range(1, n + 1)]


CRITERIA = {
    "sipas-2023": _criteria(("access", 3), ("procedure", 4), ("staff", 3), ("result", 3), ("feedback", 3)),
    "sipas-2017": _criteria(("access", 4), ("procedure", 5), ("staff", 6), ("result", 3), ("feedback", 4)),
    "sipas-quick": _criteria(("access", 1), ("procedure", 1), ("staff", 1), ("result", 1), ("feedback", 1)),
}

ALLOW_NA = {
    "sipas-2023": {"procedure_3", "feedback_1", "feedback_2", "feedback_3"},
    "sipas-2017": {"procedure_4", "feedback_1", "feedback_2", "feedback_3", "feedback_4"},
    "sipas-quick": {"feedback_1"},
}

# A phrase each criterion must contain (Vietnamese): pins the meaning and the order of the source items.
KEY_PHRASES = {
    "sipas-2023": {  # items 24-39 of the national form
        "access_1": "biển hiệu, hướng dẫn rõ ràng",
        "access_2": "ghế ngồi chờ",
        "access_3": "trang thiết bị",
        "procedure_1": "niêm yết công khai",
        "procedure_2": "nộp hồ sơ",
        "procedure_3": "phí, lệ phí",
        "procedure_4": "Thời hạn giải quyết",
        "staff_1": "lịch sự, tôn trọng",
        "staff_2": "sau một lần hướng dẫn",
        "staff_3": "tuân thủ đúng quy định",
        "result_1": "trả đúng hẹn",
        "result_2": "đầy đủ, chính xác",
        "result_3": "công bằng",
        "feedback_1": "bố trí hình thức tiếp nhận",
        "feedback_2": "xử lý phản ánh, kiến nghị của người dân đúng quy định",
        "feedback_3": "kịp thời",
    },
    "sipas-2017": {  # the 22 criteria of QĐ 2640/QĐ-BNV, sipas-sources.md §2.2
        "access_1": "đủ chỗ ngồi",
        "access_2": "đầy đủ",
        "access_3": "hiện đại",
        "access_4": "dễ sử dụng",
        "procedure_1": "niêm yết công khai đầy đủ",
        "procedure_2": "niêm yết công khai chính xác",
        "procedure_3": "Thành phần hồ sơ",
        "procedure_4": "phí, lệ phí",
        "procedure_5": "Thời hạn giải quyết",
        "staff_1": "lịch sự",
        "staff_2": "lắng nghe",
        "staff_3": "giải thích đầy đủ",
        "staff_4": "tận tình, chu đáo",
        "staff_5": "dễ hiểu",
        "staff_6": "tuân thủ đúng quy định",
        "result_1": "đúng quy định",
        "result_2": "thông tin đầy đủ",
        "result_3": "thông tin chính xác",
        "feedback_1": "bố trí hình thức tiếp nhận",
        "feedback_2": "dễ dàng",
        "feedback_3": "xử lý tích cực",
        "feedback_4": "kịp thời",
    },
    "sipas-quick": {
        "access_1": "tiếp cận dịch vụ",
        "procedure_1": "thủ tục hành chính",
        "staff_1": "công chức",
        "result_1": "kết quả",
        "feedback_1": "phản ánh, kiến nghị",
    },
}

COMMENT_VI = "Ý kiến khác (xin Ông/Bà ghi cụ thể)"

# Vietnamese words that are never written without diacritics in a correct text.
UNACCENTED_WORDS = (
    "ong/ba", "hai long", "thu tuc", "hanh chinh", "cong chuc", "ho so", "ket qua", "trung tam", "phan anh",
    "kien nghi", "quy dinh", "nguoi dan", "giai quyet", "khong", "duoc", "dich vu", "tiep can",
)
MAX_MESSAGE = 250


@pytest.fixture(scope="module")
def instruments() -> dict[str, Instrument]:
    return load_builtin()


def _all_questions(instrument: Instrument):
    return instrument.questions(frozenset(instrument.optional_sections()))


def _texts(instrument: Instrument) -> Iterator[tuple[str, LocalText]]:
    """Every citizen-facing text of the instrument, with where it is."""
    yield "title", instrument.title
    if instrument.description is not None:
        yield "description", instrument.description
    for code, name in instrument.elements.items():
        yield f"element {code}", name
    for section in instrument.sections:
        yield f"section {section.code} title", section.title
        for q in section.questions:
            yield f"{q.code} text", q.text
            if q.short is not None:
                yield f"{q.code} short", q.short
            if q.hint is not None:
                yield f"{q.code} hint", q.hint
            for option in q.options:
                yield f"{q.code} option {option.value}", option.label


def _has_vietnamese_marks(text: str) -> bool:
    """True if the text has a letter with a diacritic (Vietnamese tone or vowel mark) or a đ."""
    for ch in text:
        if ch in "đĐ":
            return True
        if ch.isalpha() and any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", ch)):
            return True
    return False


def _instrument_files() -> list[Path]:
    folder = resources.files("surveys") / "instruments"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith((".yaml", ".yml")))


# --- every shipped instrument ------------------------------------------------------------------------------


def test_the_three_sipas_instruments_are_shipped(instruments):
    assert set(SHIPPED) <= set(instruments)
    for instrument_id in SHIPPED:
        instrument = instruments[instrument_id]
        assert instrument.source == f"{instrument_id}.yaml"
        assert instrument.version == 1
        assert instrument.languages == LANGUAGES
        assert instrument.default_language == "vi"


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_criteria_codes_and_elements_in_order(instruments, instrument_id):
    instrument = instruments[instrument_id]
    assert list(instrument.criteria().items()) == CRITERIA[instrument_id]
    # all criteria are asked by default, in the same order
    assert [q.code for q in instrument.questions() if q.scored] == [c for c, _ in CRITERIA[instrument_id]]


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_elements_are_the_five_of_the_contract(instruments, instrument_id):
    elements = instruments[instrument_id].elements
    assert list(elements) == list(ELEMENTS)
    for code, (vi, en) in ELEMENTS.items():
        assert dict(elements[code].by_language) == {"vi": vi, "en": en}


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_rating_questions_use_the_satisfaction_scale(instruments, instrument_id):
    ratings = [q for q in _all_questions(instruments[instrument_id]) if q.type == "rating"]
    assert len(ratings) == len(CRITERIA[instrument_id])
    for q in ratings:
        got = [(o.value, o.label.by_language["vi"], o.label.by_language["en"]) for o in q.options]
        assert got == SATISFACTION5, q.code
        assert q.scored


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_criteria_keep_the_meaning_of_their_source_item(instruments, instrument_id):
    instrument = instruments[instrument_id]
    assert set(KEY_PHRASES[instrument_id]) == set(instrument.criteria())
    for code, phrase in KEY_PHRASES[instrument_id].items():
        assert phrase in instrument.question(code).text.by_language["vi"], code


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_every_criterion_has_a_short_label(instruments, instrument_id):
    instrument = instruments[instrument_id]
    for code in instrument.criteria():
        short = instrument.question(code).short
        assert short is not None, code
        for language in LANGUAGES:
            assert 0 < len(short.by_language[language]) <= 40, (code, language)


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_not_applicable_only_where_it_is_natural(instruments, instrument_id):
    allowed = {q.code for q in _all_questions(instruments[instrument_id]) if q.allow_na}
    assert allowed == ALLOW_NA[instrument_id]
    assert {c for c in instruments[instrument_id].criteria() if c.startswith("feedback_")} <= allowed


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_only_the_submission_mode_is_required(instruments, instrument_id):
    required = [q.code for q in _all_questions(instruments[instrument_id]) if q.required]
    assert required == (["submission_mode"] if instrument_id == "sipas-2023" else [])


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_open_comment_comes_last(instruments, instrument_id):
    instrument = instruments[instrument_id]
    for questions in (instrument.questions(), _all_questions(instrument)):
        assert questions[-1].code == "comment"
    comment = instrument.question("comment")
    assert comment.type == "text"
    assert comment.max_length == 1000
    assert comment.text.by_language["vi"] == COMMENT_VI
    assert comment.text.by_language["en"] == "Other comments (please specify)"
    assert not comment.required
    assert not comment.scored


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_description_gives_the_number_of_questions_and_minutes(instruments, instrument_id):
    instrument = instruments[instrument_id]
    assert instrument.description is not None
    # The count is filled in when the survey starts, with the optional sections that are switched on.
    for sections in (frozenset(), frozenset(instrument.optional_sections())):
        (vi,), (en,) = (engine.start(instrument, lang, sections)[1].notices for lang in LANGUAGES)
        count = len(instrument.questions(sections))
        assert re.search(rf"\b{count} câu hỏi\b", vi), vi
        assert re.search(rf"\b{count} short questions\b", en), en
        assert re.search(r"\b\d+ phút\b", vi) and re.search(r"\b\d+ minutes?\b", en)
    if instrument.optional_sections():
        with_all = engine.start(instrument, "vi", frozenset(instrument.optional_sections()))[1].notices[0]
        assert with_all != engine.start(instrument, "vi")[1].notices[0]


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_element_sections_hold_their_criteria(instruments, instrument_id):
    instrument = instruments[instrument_id]
    if instrument_id == "sipas-quick":
        assert [s.code for s in instrument.sections] == ["service", "other"]
        return
    for section in instrument.sections:
        if section.code not in ELEMENTS:
            assert not any(q.scored for q in section.questions), section.code
            continue
        assert [q.element for q in section.questions] == [section.code] * len(section.questions)
        assert section.title.by_language["vi"] == ELEMENTS[section.code][0]
        assert section.title.by_language["en"] == ELEMENTS[section.code][1]


# --- citizen-facing texts --------------------------------------------------------------------------------


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_every_text_exists_in_every_language(instruments, instrument_id):
    for where, text in _texts(instruments[instrument_id]):
        assert set(text.by_language) == set(LANGUAGES), where
        for language in LANGUAGES:
            value = text.by_language[language]
            assert value and value == value.strip(), (where, language)
            assert unicodedata.is_normalized("NFC", value), (where, language)
            assert "  " not in value, (where, language)


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_vietnamese_is_written_with_diacritics(instruments, instrument_id):
    for where, text in _texts(instruments[instrument_id]):
        vi = text.by_language["vi"]
        assert _has_vietnamese_marks(vi), (where, vi)
        lowered = vi.casefold()
        for word in UNACCENTED_WORDS:
            assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered), (where, word)
        # the citizen is addressed as "Ông/Bà", never as "bạn"
        assert not re.search(r"(?<!\w)bạn(?!\w)", lowered), where


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_english_is_a_translation_not_a_copy(instruments, instrument_id):
    for where, text in _texts(instruments[instrument_id]):
        vi, en = text.by_language["vi"], text.by_language["en"]
        assert en.casefold() != vi.casefold(), where
        assert not _has_vietnamese_marks(en), (where, en)


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_texts_fit_a_chat_message_and_are_complete(instruments, instrument_id):
    for q in _all_questions(instruments[instrument_id]):
        for language in LANGUAGES:
            for part in (q.text, q.hint):
                if part is None:
                    continue
                value = part.by_language[language]
                assert len(value) <= MAX_MESSAGE, (q.code, language, len(value))
                # the sources quote the form with ellipses; shipped texts must be the complete sentences
                assert "…" not in value and "..." not in value, (q.code, language)


@pytest.mark.parametrize("path", _instrument_files(), ids=lambda p: p.name)
def test_files_are_stored_in_nfc(path):
    # The loader normalises what it reads, so the check must be on the file itself.
    raw = path.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    document = yaml.safe_load(raw)
    assert path.name == f"{document['id']}.yaml"


# --- sipas-2023 specifics --------------------------------------------------------------------------------


def test_sipas_2023_question_order(instruments):
    instrument = instruments["sipas-2023"]
    criteria = [c for c, _ in CRITERIA["sipas-2023"]]
    assert [q.code for q in instrument.questions()] == [
        "submission_mode", *criteria, "harassment", "informal_payment", "comment",
    ]
    assert instrument.sections[0].code == "transaction"
    assert [q.code for q in instrument.sections[0].questions] == ["submission_mode"]


def test_sipas_2023_unscored_questions(instruments):
    instrument = instruments["sipas-2023"]
    unscored = [q.code for q in _all_questions(instrument) if not q.scored]
    expectations = [f"expect_{k}" for k in range(1, 11)]
    assert unscored == ["submission_mode", "harassment", "informal_payment", *expectations, "comment"]
    for code in unscored:
        assert code not in instrument.criteria()
        assert instrument.question(code).element is None


@pytest.mark.parametrize(
    ("code", "starts"),
    [
        ("submission_mode", ["Trực tiếp", "Trực tuyến toàn trình", "Trực tuyến một phần"]),
        ("harassment", ["Không có công chức nào", "Có một số công chức", "Có nhiều công chức"]),
        ("informal_payment", ["Không có người dân nào", "Có một số người dân", "Có nhiều người dân"]),
    ],
)
def test_sipas_2023_perception_and_mode_options(instruments, code, starts):
    q = instruments["sipas-2023"].question(code)
    assert q.type == "choice"
    assert q.option_values() == (1, 2, 3)
    labels = [o.label.by_language["vi"] for o in q.options]
    assert len(labels) == len(starts) == 3
    for label, start in zip(labels, starts, strict=True):
        assert label.startswith(start), (label, start)


def test_sipas_2023_perception_texts_follow_the_form(instruments):
    instrument = instruments["sipas-2023"]
    assert "phiền hà, sách nhiễu" in instrument.question("harassment").text.by_language["vi"]
    assert "tiền ngoài quy định" in instrument.question("informal_payment").text.by_language["vi"]


def test_sipas_2023_expectations_are_optional_and_off_by_default(instruments):
    instrument = instruments["sipas-2023"]
    codes = [f"expect_{k}" for k in range(1, 11)]
    assert instrument.optional_sections() == ("expectations",)
    default = [q.code for q in instrument.questions()]
    assert not set(codes) & set(default)
    enabled = [q.code for q in instrument.questions(frozenset({"expectations"}))]
    assert enabled == default[:-1] + codes + ["comment"]
    for code in codes:
        q = instrument.question(code)
        assert q.type == "choice"
        assert q.section == "expectations"
        assert not q.required and not q.allow_na
        assert q.option_values() == (1, 2, 3, 4)
        assert [o.label.by_language["vi"] for o in q.options] == EXPECT4_VI
        assert q.text.by_language["vi"].startswith("Xin Ông/Bà cho biết mức độ mong muốn")


def test_sipas_2023_equipment_item_has_the_form_examples(instruments):
    hint = instruments["sipas-2023"].question("access_3").hint
    assert hint is not None
    assert "máy lấy số xếp hàng" in hint.by_language["vi"]
    assert "queue" in hint.by_language["en"]


def test_not_applicable_items_tell_the_citizen_when_to_use_it(instruments):
    for instrument_id, codes in ALLOW_NA.items():
        for code in codes:
            hint = instruments[instrument_id].question(code).hint
            assert hint is not None, (instrument_id, code)
            assert "Không áp dụng" in hint.by_language["vi"], (instrument_id, code)
            assert "Not applicable" in hint.by_language["en"], (instrument_id, code)
