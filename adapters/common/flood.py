"""A chat that floods us gets one notice and is then ignored for a while: the same rule for every chat channel."""

from __future__ import annotations

from collections import defaultdict, deque


class FloodGuard:
    """More than `limit` updates a minute from one chat: one notice, then silence for `quiet` seconds."""

    def __init__(self, limit: int, quiet: float = 60.0) -> None:
        self.limit, self.quiet = limit, quiet
        self.seen: dict[int, deque[float]] = defaultdict(deque)
        self.muted_until: dict[int, float] = {}

    def check(self, chat: int, now: float) -> str:
        """"ok", "notice" (tell them once) or "drop"."""
        if self.muted_until.get(chat, 0) > now:
            return "drop"
        window = self.seen[chat]
        window.append(now)
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) > self.limit:
            self.muted_until[chat] = now + self.quiet
            window.clear()
            return "notice"
        return "ok"
