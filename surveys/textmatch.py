"""Reading what citizens type: normalisation, command words, and answers to option questions.

People type on phones, often without diacritics: "hai long", "HÀI LÒNG" and "Hài lòng" must all match, while
"Rất hài lòng" must never match "hài lòng" by prefix. So every comparison is on whole, folded labels: NFC, lower case,
diacritics removed (đ → d), punctuation and repeated spaces dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

Command = Literal["back", "skip", "na", "help", "cancel", "yes", "no", "lang_vi", "lang_en"]

# Folded forms (see `fold`) of the words people use for each command, in Vietnamese and English.
COMMAND_WORDS: dict[str, Command] = {}
for _command, _words in {
    "back": ["back", "quay lai", "tro lai", "lui", "cau truoc", "previous", "<", "<<"],
    "skip": ["skip", "bo qua", "khong biet", "ko biet", "k biet", "kbiet", "pass", "next", "tiep", "-",
             "ko", "k", "khong tra loi", "ko tra loi"],
    "na": ["na", "n a", "n/a", "khong ap dung", "ko ap dung", "kad", "not applicable"],
    "help": ["help", "tro giup", "huong dan", "giup", "?", "giup do"],
    "cancel": ["cancel", "huy", "dung", "stop", "huy bo", "thoat", "exit", "quit"],
    "yes": ["yes", "y", "co", "dong y", "ok", "u", "uh", "vang", "da"],
    "no": ["no", "n", "khong", "thoi"],
    "lang_vi": ["tieng viet", "vietnamese", "vi", "/vi"],
    "lang_en": ["english", "tieng anh", "en", "/en"],
}.items():
    for _word in _words:
        COMMAND_WORDS[_word] = _command  # type: ignore[assignment]

# What people write to say thank you or goodbye once they are done, folded: not a comment to keep.
_COURTESY_ANCHORS = frozenset({"cam on", "thanks", "thank you", "thank", "ok", "oke", "okay", "vang", "da",
                               "bye", "tam biet", "chao"})
_COURTESY_EXTRAS = frozenset({"xin", "nhieu", "nhe", "nha", "a", "ban", "chi", "anh", "em", "nhe a", "very", "much",
                              "so", "rat"})

_NUMBER = re.compile(r"^\s*(\d{1,2})\s*(?:sao|diem|star|stars|\*+|⭐+)?\s*[.,:;!)]*\s*$")
_PUNCT = re.compile(r"[^\w\s/<?*-]+")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Return ``text`` in NFC with surrounding white space removed and inner runs of white space kept as typed."""
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Fold text for matching: NFC, lower case, no diacritics (đ → d), no punctuation, single spaces.

    >>> fold("  Rất HÀI LÒNG! ")
    'rat hai long'
    """
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    stripped = stripped.replace("đ", "d")
    stripped = _PUNCT.sub(" ", stripped)
    return _SPACES.sub(" ", stripped).strip()


def parse_command(text: str) -> Command | None:
    """The command a typed message stands for ("quay lại" → back, "bỏ qua" → skip), or ``None``.

    Slash commands from chat apps (``/help``, ``/cancel``) are read the same way.
    """
    folded = fold(text)
    if folded.startswith("/") and len(folded) > 1:
        folded = folded[1:]
    return COMMAND_WORDS.get(folded)


def parse_number(text: str) -> int | None:
    """A number typed alone, with stray punctuation or a unit ("4", "4.", " 4 ", "4 sao"), else ``None``."""
    match = _NUMBER.match(fold(text))
    return int(match.group(1)) if match else None


def match_label(text: str, labels: Sequence[str]) -> int | None:
    """Index of the one label that the whole folded ``text`` equals, or ``None`` when none or several do.

    Whole-label matching means "hài lòng" never matches "rất hài lòng" and vice versa.
    """
    folded = fold(text)
    if not folded:
        return None
    hits = [i for i, label in enumerate(labels) if fold(label) == folded]
    return hits[0] if len(hits) == 1 else None


def is_courtesy(text: str) -> bool:
    """Whether ``text`` only thanks or says goodbye ("Cảm ơn!", "cam on nhieu nhe", "thanks", "ok").

    Args:
        text: what the citizen typed.

    Returns:
        True when, folded, it is one of the courtesy phrases with at most some polite particles around it.
    """
    folded = fold(text).replace("?", "").strip()
    for anchor in sorted(_COURTESY_ANCHORS, key=len, reverse=True):
        if anchor in folded:
            rest = f" {folded} ".replace(f" {anchor} ", " ").split()
            return all(word in _COURTESY_EXTRAS for word in rest)
    return False
