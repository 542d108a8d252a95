"""Limits on guessing short codes, kept in memory (per process).

A short code has about 40 bits, but without limits 600 chats could try 30 codes a second. So:
    * per chat: after FREE_FAILURES failed redemptions the chat is locked out, first for a minute, then twice as
      long after each further failure (at most a day); a locked chat's codes are not even looked up;
    * globally: when more than GLOBAL_PER_MINUTE redemptions failed in the last minute, every further failure is
      answered only after a delay (growing with the excess, at most MAX_DELAY seconds). Correct codes never wait.
The counts live in this process only (no table, no migration): a restart forgets them, and with several
processes each keeps its own (the limits then apply per process). The clock and the sleep are injectable so tests
can run ten thousand guesses without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.texts import say

FREE_FAILURES = 5
FIRST_LOCKOUT = 60.0
MAX_LOCKOUT = 86_400.0
GLOBAL_PER_MINUTE = 120
MAX_DELAY = 5.0
MAX_CHATS = 100_000  # chats remembered; the oldest are forgotten first


@dataclass
class _Chat:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class RedemptionGuard:
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    chats: dict[str, _Chat] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=deque)
    failed_total: int = 0
    refused_locked_total: int = 0
    slowed_total: int = 0

    def wait_of(self, chat: str) -> float:
        """Seconds this chat must still wait before a code of its is looked up (0 when it may try)."""
        state = self.chats.get(chat)
        return max(state.locked_until - self.clock(), 0.0) if state else 0.0

    def refusal(self, chat: str, language: str) -> str | None:
        """The reply to a locked-out chat (counted), or None when it may try a code."""
        left = self.wait_of(chat)
        if left <= 0:
            return None
        self.refused_locked_total += 1
        return say("citizen.too_many_codes", language, minutes=max(1, round(left / 60)))

    async def settle(self, chat: str, problem: str | None, started: bool) -> None:
        """After a redemption's transaction: count a failure (and wait, under attack), or forget a success."""
        if problem in ("unknown", "expired", "used", "in_progress"):
            await self.failed(chat)
        elif started:
            self.succeeded(chat)

    async def failed(self, chat: str) -> None:
        """Count a failed redemption of this chat, then wait as long as the global rate asks."""
        now = self.clock()
        self.failed_total += 1
        state = self.chats.pop(chat, None) or _Chat()
        self.chats[chat] = state  # most recently seen last
        while len(self.chats) > MAX_CHATS:
            self.chats.pop(next(iter(self.chats)))
        state.failures += 1
        if state.failures >= FREE_FAILURES:
            state.locked_until = now + min(FIRST_LOCKOUT * 2 ** (state.failures - FREE_FAILURES), MAX_LOCKOUT)
        self.recent.append(now)
        while self.recent and self.recent[0] <= now - 60:
            self.recent.popleft()
        excess = len(self.recent) - GLOBAL_PER_MINUTE
        if excess > 0:
            self.slowed_total += 1
            await self.sleep(min(MAX_DELAY, 0.05 * excess))

    def succeeded(self, chat: str) -> None:
        """A correct code: the chat's count starts again."""
        self.chats.pop(chat, None)

    def metrics(self) -> dict[str, int]:
        """Counters for /healthz."""
        now = self.clock()
        return {"failed_total": self.failed_total, "refused_locked_total": self.refused_locked_total,
                "slowed_total": self.slowed_total,
                "locked_chats": sum(1 for s in self.chats.values() if s.locked_until > now),
                "failed_last_minute": sum(1 for t in self.recent if t > now - 60)}


PROCESS_GUARD = RedemptionGuard()  # the one guard of this process, shared by every channel
