"""Presenter messages as OA consultation messages (adapters/zalo_oa/render.py): five options on query buttons
whose payloads map back to the presenter's events, more than five numbered in the text, the typing hint ("0" for
không áp dụng), texts over 2,000 characters split; and typed "0" read as not applicable by the engine."""

from dataclasses import replace

from adapters.common.parts import MAX_TEXT, split_text
from adapters.zalo_oa.render import OAMessage, action_of, cs_body, render, render_message
from bot.survey.presenter import Choice, Message, Presentation, event_for, question_message
from surveys import engine
from surveys import events as ev
from surveys.instrument import NOT_APPLICABLE
from surveys.loader import load_builtin

SIPAS = load_builtin()["sipas-2023"]


def at(code: str):
    """sipas-2023 started and answered up to question ``code`` (by its first option, or NA)."""
    progress, reply = engine.start(SIPAS, "vi")
    while reply.question.code != code:
        progress, reply = engine.step(SIPAS, progress, ev.Choose(reply.question.options[0].value))
    return progress, reply


def test_a_rating_question_has_its_five_levels_on_buttons_and_says_what_to_type():
    _, reply = at("procedure_3")  # allows "không áp dụng"
    [message] = render_message(question_message(reply), "vi")
    assert [b.title for b in message.buttons] == ["5 · Rất hài lòng", "4 · Hài lòng", "3 · Bình thường",
                                                  "2 · Không hài lòng", "1 · Rất không hài lòng"]
    assert [event_for(action_of(b.payload)) for b in message.buttons] == [
        ev.Choose(k, question="procedure_3") for k in ("5", "4", "3", "2", "1")]
    assert message.text.startswith("Câu 7/20. ")
    assert message.text.endswith("Gõ: số của phương án · 0 (không áp dụng) · “bỏ qua” · “quay lại”")
    body = cs_body("6142494823", message)
    assert body["recipient"] == {"user_id": "6142494823"}
    buttons = body["message"]["attachment"]["payload"]["buttons"]
    assert body["message"]["attachment"]["type"] == "template" and buttons[0] == {
        "title": "5 · Rất hài lòng", "type": "oa.query.hide", "payload": "#a|procedure_3|5"}


def test_english_hint_and_a_question_without_na():
    _, reply = at("access_2")
    [message] = render_message(question_message(replace(reply, language="en")), "en")
    assert message.text.endswith("Type: the option's number · “skip” · “back”")


def test_more_than_five_options_are_numbered_in_the_text_without_buttons():
    choices = tuple((Choice(f"{k} · Phương án {k}", f"a|q|{k}"),) for k in range(1, 8))
    message = Message("Câu 1/1. Chọn một", (*choices, (Choice("Bỏ qua", "s|q"),)), "q")
    [shown] = render_message(message, "vi")
    assert shown.buttons == ()
    assert "  7 · Phương án 7" in shown.text and shown.text.endswith("Gõ: số của phương án · “bỏ qua”")


def test_the_answer_just_given_is_echoed_at_the_top_of_the_next_message():
    progress, reply = at("access_1")
    _, reply = engine.step(SIPAS, progress, ev.Text("4"))
    from bot.survey.presenter import closing_of

    shown = Presentation((question_message(reply),), closing=closing_of(reply.answered, "vi"))
    [message] = render(shown, "vi")
    assert message.text.startswith("Ông/Bà chọn: 4 – Hài lòng\n\nCâu 3/20.")
    assert len(message.buttons) == 5


def test_language_and_confirmation_choices_are_buttons_too():
    shown = Presentation((Message("Chào", ((Choice("Tiếng Việt", "l|vi"), Choice("English", "l|en")),)),))
    [message] = render(shown, "vi")
    assert [(b.title, b.payload) for b in message.buttons] == [("Tiếng Việt", "#l|vi"), ("English", "#l|en")]
    assert event_for(action_of("#l|en")) == ev.SetLanguage("en")
    assert action_of("chào") is None and action_of("#") is None
    assert event_for(action_of("#a5")) is None  # a payload we never sent


def test_long_texts_are_split_and_the_buttons_go_with_the_last_part():
    long = "\n".join(f"Dòng {i}: " + " ".join(["chữ"] * 40) for i in range(30))
    message = Message(long, ((Choice("Có", "y"), Choice("Không", "r")),))
    parts = render_message(message, "vi")
    assert len(parts) == 3 and all(len(p.text) <= MAX_TEXT for p in parts)
    assert [bool(p.buttons) for p in parts] == [False, False, True]
    assert "\n".join(p.text for p in parts) == long
    unbroken = "x" * 4500
    assert [len(p) for p in split_text(unbroken)] == [2000, 2000, 500]
    assert split_text("") == [""]
    assert render(Presentation((Message("ok"),)), "vi") == [OAMessage("ok")]


def test_a_button_title_over_100_characters_is_shortened():
    message = Message("Câu 1/1. ?", ((Choice("1 · " + "rất dài " * 20, "a|q|1"),),), "q")
    [shown] = render_message(message, "vi")
    assert len(shown.buttons[0].title) == 100 and shown.buttons[0].title.endswith("…")


def test_typed_zero_is_not_applicable_where_the_question_allows_it():
    progress, _ = at("procedure_3")
    after, reply = engine.step(SIPAS, progress, ev.Text("0"))
    assert after.answers["procedure_3"] == NOT_APPLICABLE and reply.accepted
    progress, _ = at("access_2")  # no "không áp dụng" here: 0 is not understood
    same, reply = engine.step(SIPAS, progress, ev.Text("0"))
    assert same == progress and not reply.accepted and "access_2" not in same.answers
