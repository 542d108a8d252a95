"""Cleaning text from citizens before anything else reads or stores it.

Chat apps, paste buffers and hostile clients can deliver text that one database accepts and another refuses:
PostgreSQL rejects a NUL byte in a text column, and a lone surrogate (half of a UTF-16 pair) cannot be encoded
as UTF-8 at all. Cleaning once, at the service boundary, makes every channel and every backend store the same
thing, and NFC makes "hài lòng" typed with combining marks match the catalogue's precomposed form.
"""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Return `text` without NUL bytes and lone surrogates, in Unicode NFC.

    Args:
        text: what the citizen sent, as the channel decoded it.

    Returns:
        The same text, safe to store on every backend (SQLite and PostgreSQL alike).
    """
    return unicodedata.normalize("NFC", _UNSAFE.sub("", text))
