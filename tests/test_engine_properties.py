"""Random event sequences: the engine never raises, never records a value outside a question's options, and a
completed survey records exactly the questions that were shown."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from surveys import events as ev
from surveys.engine import start, step
from surveys.instrument import NOT_APPLICABLE, Instrument
from surveys.loader import load_builtin, load_file

INSTRUMENTS = {"mini-test": load_file(Path(__file__).parent / "fixtures" / "mini.yaml"), **load_builtin()}

TYPED = ["1", "2", "3", "4", "5", "6", "0", "4.", " 5 ", "hài lòng", "Rất hài lòng", "khong hai long", "bỏ qua",
         "không áp dụng", "quay lại", "help", "hủy", "có", "không", "English", "tiếng Việt", "?", "", "🙂",
         "Có", "Trực tiếp", "ok"]

events = st.one_of(
    st.builds(ev.Choose, st.one_of(st.integers(-1, 7), st.sampled_from(["yes_used", "not_used", "x", "4"])),
              st.one_of(st.none(), st.sampled_from(["mode", "access_1", "comment", "staff_2"]))),
    st.builds(ev.Text, st.one_of(st.sampled_from(TYPED), st.text(max_size=40))),
    st.just(ev.Back()), st.just(ev.Skip()), st.just(ev.NotApplicable()), st.just(ev.Help()),
    st.just(ev.Resume()), st.just(ev.Start()), st.just(ev.Unsupported("photo")),
    st.builds(ev.Cancel, st.booleans()),
    st.builds(ev.SetLanguage, st.sampled_from(["vi", "en", "fr"])),
)


def check_answers(instrument: Instrument, answers) -> None:
    for code, value in answers.items():
        question = instrument.question(code)
        if value is None:
            assert not question.required, code
        elif value == NOT_APPLICABLE:
            assert question.allow_na, code
        elif question.type == "text":
            assert isinstance(value, str) and 0 < len(value) <= question.max_length
        else:
            assert value in question.option_values(), (code, value)
            assert type(value) is type(question.options[0].value)


def shown_path(instrument: Instrument, sections, answers) -> list[str]:
    return [q.code for q in instrument.questions(sections) if q.show_if is None or q.show_if.holds(answers)]


@pytest.mark.parametrize("instrument_id", sorted(INSTRUMENTS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_event_sequences(instrument_id, data):
    instrument = INSTRUMENTS[instrument_id]
    sections = data.draw(st.sets(st.sampled_from(instrument.optional_sections() or ("none",))))
    progress, reply = start(instrument, data.draw(st.sampled_from(["vi", "en"])), frozenset(sections))
    # Enough plausible answers to reach the end, with random noise events interleaved between them.
    answers = data.draw(st.lists(st.sampled_from(["1", "2", "3", "Tốt"]), min_size=len(instrument.questions()) * 2,
                                 max_size=len(instrument.questions()) * 2))
    noise = data.draw(st.lists(st.tuples(st.integers(0, len(answers)), events), max_size=30))
    sequence = [ev.Text(a) for a in answers]
    for position, noisy in sorted(noise, key=lambda item: -item[0]):
        sequence.insert(position, noisy)
    for event in sequence:
        before = progress
        progress, reply = step(instrument, progress, event)
        check_answers(instrument, progress.answers)
        assert set(progress.answers) <= set(progress.history)
        if not reply.accepted:
            assert progress == before
        if progress.status == "completed":
            assert list(progress.answers) == shown_path(instrument, progress.sections, progress.answers)
            assert list(progress.answers) == list(progress.history)
            if reply.accepted:  # the completing step hands the answers to the channel
                assert reply.answers == progress.answers
        if reply.status in ("completed", "cancelled"):
            assert reply.question is None and reply.closing
        elif reply.status == "active":
            assert reply.question is not None and reply.question.code == progress.current
    note_event(f"ended {progress.status}")
