"""Long texts in pieces for platforms that cap a message's length (Zalo OA and Zalo Bot: 2,000 characters)."""

from __future__ import annotations

MAX_TEXT = 2000  # characters of one Zalo message (../shared/docs/platforms.md §A.3, §C.1)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends (a longer line is cut where it must)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one line alone is too long: cut it, at a space when there is one
            if current:
                pieces.append(current)
                current = ""
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > limit // 2 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current or not pieces:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [text[:limit]]
