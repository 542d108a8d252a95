"""Reading what people type: folding, numbers, whole-label matching, command words."""

import pytest

from surveys.textmatch import fold, is_courtesy, match_label, parse_command, parse_number

SCALE = ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"]


@pytest.mark.parametrize("text, folded", [
    ("  Rất HÀI LÒNG! ", "rat hai long"), ("Đúng hẹn", "dung hen"), ("hài   lòng", "hai long"),
    ("Hoa\u0300 lo\u0300ng", "hoa long"),  # decomposed input folds like composed input
])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("text, number", [
    ("4", 4), ("4.", 4), (" 4 ", 4), ("4 sao", 4), ("4⭐", 4), ("(4)", 4), ("5 điểm", 5),
    ("4.5", None), ("bốn", None), ("", None), ("4 5", None),
])
def test_parse_number(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize("text, index", [
    ("hài lòng", 1), ("HAI LONG", 1), ("rất hài lòng", 0), ("Rat khong hai long", 4), ("không hài lòng", 3),
    ("hài", None), ("lòng", None), ("rất", None), ("", None),
])
def test_whole_labels_only_never_by_prefix(text, index):
    assert match_label(text, SCALE) == index


def test_a_label_listed_twice_is_ambiguous():
    assert match_label("Có", ["Có", "co"]) is None


@pytest.mark.parametrize("text, command", [
    ("quay lại", "back"), ("Quay lai", "back"), ("back", "back"), ("bỏ qua", "skip"), ("bo qua", "skip"),
    ("không biết", "skip"), ("ko", "skip"), ("k", "skip"), ("không áp dụng", "na"), ("N/A", "na"),
    ("/help", "help"), ("trợ giúp", "help"), ("hủy", "cancel"), ("huỷ", "cancel"), ("/cancel", "cancel"),
    ("có", "yes"), ("không", "no"), ("English", "lang_en"), ("Tiếng Việt", "lang_vi"), ("4", None),
    ("hài lòng", None),
])
def test_parse_command(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize("text, courtesy", [
    ("Cảm ơn!", True), ("cam on nhieu nhe", True), ("Xin cảm ơn ạ", True), ("Thank you so much", True), ("ok", True),
    ("Dạ", True), ("nhưng chờ hơi lâu.", False), ("cảm ơn nhưng chờ lâu quá", False), ("Dạ, chờ lâu", False),
    ("tốt", False), ("book online", False),
])
def test_is_courtesy(text, courtesy):
    assert is_courtesy(text) is courtesy
