"""The conversation engine, event by event, on a small instrument with every kind of question."""

from pathlib import Path

import pytest

from surveys import events as ev
from surveys.engine import start, step
from surveys.loader import load_file
from surveys.progress import Progress

MINI = load_file(Path(__file__).parent / "fixtures" / "mini.yaml")
# The answers that walk from the first question to each later one (mode=1 shows the conditional 'kiosk').
PATH = [("mode", ev.Choose(1)), ("kiosk", ev.Choose("not_used")), ("access_1", ev.Choose(4)),
        ("feedback_1", ev.Choose(5)), ("comment", None)]


def at(code: str, language: str = "vi") -> Progress:
    progress, _ = start(MINI, language)
    for current, event in PATH:
        if current == code:
            assert progress.current == code
            return progress
        progress, _ = step(MINI, progress, event)
    raise AssertionError(code)


def test_start_asks_the_first_question_with_progress_and_options():
    progress, reply = start(MINI)
    assert progress.language == "vi" and progress.history == ("mode",)
    assert reply.notices == ("Khảo sát gồm vài câu hỏi.",)
    q = reply.question
    assert (q.code, q.progress, q.text) == ("mode", "Câu 1/4", "Ông/Bà nộp hồ sơ bằng cách nào?")
    assert [(o.key, o.label, o.value) for o in q.options] == [("1", "Trực tiếp", 1), ("2", "Trực tuyến", 2)]
    # Required and first: neither skip nor back is offered.
    assert reply.commands == ("help", "cancel", "lang_en")
    assert reply.command_labels["lang_en"] == "English"


def test_start_in_english_and_unknown_language_falls_back_to_vietnamese():
    _, reply = start(MINI, "en")
    assert reply.question.progress == "Question 1/4" and reply.question.options[0].label == "In person"
    progress, _ = start(MINI, "fr")
    assert progress.language == "vi"


def test_conditional_question_shown_only_for_its_value():
    shown, reply = step(MINI, at("mode"), ev.Choose(1))
    assert shown.current == "kiosk" and reply.question.progress == "Câu 2/5"
    hidden, reply = step(MINI, at("mode"), ev.Choose(2))
    assert hidden.current == "access_1" and reply.question.progress == "Câu 2/4"


def test_rating_options_run_from_very_satisfied_down_with_value_keys():
    _, reply = step(MINI, at("kiosk"), ev.Choose("yes_used"))
    assert [o.key for o in reply.question.options] == ["5", "4", "3", "2", "1"]
    assert reply.question.options[0].label == "Rất hài lòng"
    assert reply.commands == ("skip", "back", "help", "cancel", "lang_en")


@pytest.mark.parametrize("typed, value", [
    ("4", 4), ("4.", 4), (" 4 ", 4), ("4 sao", 4), ("hài lòng", 4), ("HÀI LÒNG", 4), ("hai long", 4),
    ("Rất hài lòng", 5), ("rat hai long", 5), ("Không hài lòng", 2), ("rất không hài lòng", 1),
    ("Bình thường", 3), ("satisfied", 4), ("Very Satisfied", 5),
])
def test_typed_rating_answers(typed, value):
    progress, reply = step(MINI, at("access_1"), ev.Text(typed))
    assert reply.accepted and progress.answers["access_1"] == value
    assert progress.current == "feedback_1"


@pytest.mark.parametrize("typed", ["6", "0", "45", "rất", "hài", "tốt lắm", "", "4.5", "🙂"])
def test_unclear_rating_answers_repeat_the_question_and_change_nothing(typed):
    before = at("access_1")
    after, reply = step(MINI, before, ev.Text(typed))
    assert after == before and not reply.accepted
    assert reply.notices == ("Chúng tôi chưa hiểu câu trả lời, Ông/Bà vui lòng chọn một trong các mức dưới đây "
                             "hoặc gõ số từ 1 đến 5.",)
    assert reply.question.code == "access_1"


def test_unclear_answer_in_english_gets_an_english_hint():
    _, reply = step(MINI, at("access_1", "en"), ev.Text("meh"))
    assert reply.notices[0].startswith("Sorry, we did not understand")


def test_choice_by_typed_position_label_and_button():
    progress, _ = step(MINI, at("kiosk"), ev.Text("2"))
    assert progress.answers["kiosk"] == "not_used"
    progress, _ = step(MINI, at("kiosk"), ev.Text("có"))
    assert progress.answers["kiosk"] == "yes_used"
    progress, _ = step(MINI, at("kiosk"), ev.Choose("yes_used"))
    assert progress.answers["kiosk"] == "yes_used"
    same, reply = step(MINI, at("kiosk"), ev.Choose("maybe"))
    assert same == at("kiosk") and reply.notices[0].startswith("Chúng tôi chưa hiểu")


def test_button_value_arriving_as_string_is_accepted():
    progress, _ = step(MINI, at("access_1"), ev.Choose("3"))
    assert progress.answers["access_1"] == 3


def test_stale_button_of_an_earlier_question_changes_nothing():
    before = at("feedback_1")
    for event in (ev.Choose(4, question="access_1"), ev.Skip(question="access_1"),
                  ev.NotApplicable(question="access_1")):
        after, reply = step(MINI, before, event)
        assert after == before and not reply.accepted
        assert reply.notices == ("Câu hỏi này đã qua. Ông/Bà vui lòng trả lời câu hỏi hiện tại.",)


def test_skip_is_refused_on_a_required_question_and_recorded_elsewhere():
    same, reply = step(MINI, at("mode"), ev.Skip())
    assert same == at("mode") and reply.notices == ("Câu hỏi này cần Ông/Bà trả lời để tiếp tục.",)
    progress, _ = step(MINI, at("access_1"), ev.Text("bỏ qua"))
    assert "access_1" in progress.answers and progress.answers["access_1"] is None


def test_not_applicable_only_where_allowed():
    same, reply = step(MINI, at("access_1"), ev.NotApplicable())
    assert same == at("access_1") and "Không áp dụng" in reply.notices[0]
    progress, _ = step(MINI, at("feedback_1"), ev.Text("không áp dụng"))
    assert progress.answers["feedback_1"] == "NA"
    _, reply = step(MINI, at("access_1"), ev.Choose(4))
    assert reply.commands[0] == "na"


def test_back_returns_to_the_previous_question_showing_its_answer():
    progress, reply = step(MINI, at("feedback_1"), ev.Text("quay lại"))
    assert progress.current == "access_1" and progress.answers["access_1"] == 4
    assert reply.question.current_answer == "Câu trả lời trước đó: Hài lòng"
    progress, _ = step(MINI, progress, ev.Choose(2))
    assert progress.answers["access_1"] == 2 and progress.current == "feedback_1"
    same, reply = step(MINI, at("mode"), ev.Back())
    assert same == at("mode") and reply.notices == ("Đây là câu hỏi đầu tiên.",)


def test_changing_a_condition_after_back_drops_the_hidden_answer():
    progress = at("access_1")
    progress, _ = step(MINI, progress, ev.Back())  # kiosk
    progress, _ = step(MINI, progress, ev.Back())  # mode
    progress, _ = step(MINI, progress, ev.Choose(2))  # online: kiosk is hidden now
    for event in (ev.Choose(4), ev.Choose(5), ev.Text("Tốt")):
        progress, reply = step(MINI, progress, event)
    assert reply.status == "completed"
    assert reply.answers == {"mode": 2, "access_1": 4, "feedback_1": 5, "comment": "Tốt"}


def test_text_question_normalises_caps_and_tells_when_cut():
    decomposed = "Tho\u0302\u0301ng"  # "Thống" typed as base letters plus combining marks
    _, reply = step(MINI, at("comment"), ev.Text(f"  {decomposed}  "))
    assert reply.answers["comment"] == "Thống"
    _, reply = step(MINI, at("comment"), ev.Text("Nhân viên rất nhiệt tình và chu đáo"))
    assert reply.answers["comment"] == "Nhân viên rất nhiệt"
    assert reply.notices == ("Ý kiến của Ông/Bà dài hơn 20 ký tự nên chúng tôi chỉ ghi nhận 20 ký tự đầu.",)


def test_text_question_reads_commands_but_keeps_other_words():
    _, reply = step(MINI, at("comment"), ev.Text("không"))
    assert reply.answers["comment"] is None
    _, reply = step(MINI, at("comment"), ev.Text("ok"))
    assert reply.answers["comment"] == "ok"
    same, reply = step(MINI, at("comment"), ev.Text("   "))
    assert same == at("comment") and "bỏ qua" in reply.notices[0]
    back, _ = step(MINI, at("comment"), ev.Text("Quay lại"))
    assert back.current == "feedback_1"


@pytest.mark.parametrize("code", ["mode", "kiosk", "access_1", "feedback_1", "comment"])
def test_help_language_unsupported_and_start_at_every_question(code):
    before = at(code)
    same, reply = step(MINI, before, ev.Help())
    assert same == before and "quay lại" in reply.notices[0] and reply.question.code == code
    same, reply = step(MINI, before, ev.Unsupported("sticker"))
    assert same == before and reply.notices[0].startswith("Xin lỗi, chúng tôi chỉ nhận")
    same, reply = step(MINI, before, ev.Start())
    assert same == before and reply.question.code == code
    english, reply = step(MINI, before, ev.SetLanguage("en"))
    # The introduction is repeated in English: the citizen may not have read it in Vietnamese.
    assert english.language == "en" and reply.notices[0] == "Switched to English."
    assert reply.notices[1:] == ((MINI.description.get("en"),) if MINI.description else ())
    assert english.history == before.history and english.answers == before.answers
    same, reply = step(MINI, before, ev.SetLanguage("fr"))
    assert same == before and "tiếng Anh" in reply.notices[0]
    same, reply = step(MINI, before, ev.Choose(99, question=code))
    assert same == before and not reply.accepted


@pytest.mark.parametrize("code", ["mode", "access_1", "comment"])
def test_cancel_asks_to_confirm_then_stops_or_resumes(code):
    before = at(code)
    asking, reply = step(MINI, before, ev.Text("hủy"))
    assert asking.status == "confirm_cancel" and reply.question is None
    assert reply.commands == ("yes", "no") and reply.command_labels["yes"] == "Có, dừng khảo sát"
    resumed, reply = step(MINI, asking, ev.Text("không"))
    assert resumed == before and reply.notices == ("Chúng ta tiếp tục khảo sát.",)
    stopped, reply = step(MINI, asking, ev.Text("có"))
    assert stopped.status == "cancelled" and reply.closing.startswith("Đã dừng khảo sát")
    after, reply = step(MINI, stopped, ev.Choose(4))
    assert after == stopped and not reply.accepted


def test_answer_button_while_confirming_resumes_and_applies():
    asking, _ = step(MINI, at("access_1"), ev.Cancel())
    progress, _ = step(MINI, asking, ev.Choose(5))
    assert progress.status == "active" and progress.answers["access_1"] == 5


def test_completion_keeps_skipped_and_not_applicable_distinct_and_stays_closed():
    progress = at("access_1")
    for event in (ev.Skip(), ev.NotApplicable(), ev.Skip()):
        progress, reply = step(MINI, progress, event)
    assert reply.status == "completed" and reply.closing.startswith("Cảm ơn Ông/Bà")
    assert reply.answers == {"mode": 1, "kiosk": "not_used", "access_1": None, "feedback_1": "NA",
                             "comment": None}
    again, reply = step(MINI, progress, ev.Choose(4))
    assert again == progress and reply.closing == "Ông/Bà đã hoàn thành khảo sát này. Xin cảm ơn!"


def test_optional_section_only_when_enabled():
    progress, _ = start(MINI, sections=frozenset({"extra", "nonexistent"}))
    assert progress.sections == frozenset({"extra"})
    for event in (ev.Choose(2), ev.Choose(4), ev.Choose(4)):
        progress, reply = step(MINI, progress, event)
    assert progress.current == "expect_1" and reply.question.progress == "Câu 4/5"
    plain, _ = start(MINI)
    for event in (ev.Choose(2), ev.Choose(4), ev.Choose(4)):
        plain, _ = step(MINI, plain, event)
    assert plain.current == "comment"


def test_progress_round_trips_through_a_dict():
    progress = at("feedback_1")
    assert Progress.from_dict(progress.to_dict()) == progress


def test_progress_of_another_instrument_is_a_programming_error():
    with pytest.raises(ValueError, match="cannot be run"):
        step(MINI, Progress("other", 1, "vi", history=("x",)), ev.Help())


def test_a_section_lead_in_is_said_on_its_first_question_shown_and_again_after_going_back():
    sipas = load_file(Path(__file__).parent.parent / "surveys" / "instruments" / "sipas-2023.yaml")
    lead = "Xin Ông/Bà cho biết mức độ hài lòng của Ông/Bà về các nội dung sau."
    progress, reply = start(sipas)
    assert reply.question.section_lead is None  # the first section has none
    progress, reply = step(sipas, progress, ev.Choose(1))
    assert reply.question.code == "access_1" and reply.question.section_lead == lead
    progress, reply = step(sipas, progress, ev.Choose(4))
    assert reply.question.section_lead is None
    _, reply = step(sipas, progress, ev.Back())
    assert reply.question.section_lead == lead
    _, english = start(sipas, "en")
    assert english.question.section_lead is None
