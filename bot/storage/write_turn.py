"""SQLite's one writer at a time, inside one process: our writers queue first come first served, except that an
urgent one (a webhook's acknowledgement: one INSERT that a platform waits for) goes before everyone waiting. Behind
a plain FIFO lock, that INSERT waited for every survey step queued before it (bench/zalo_inbox.py)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteTurn:
    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future] = deque()
        self._waiting: deque[asyncio.Future] = deque()

    @asynccontextmanager
    async def __call__(self, urgent: bool = False) -> AsyncIterator[None]:
        """Hold the turn for the block; ``urgent`` goes ahead of the queue (never ahead of the one writing)."""
        if self._busy:
            turn = asyncio.get_running_loop().create_future()
            queue = self._urgent if urgent else self._waiting
            queue.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._hand_on()  # the turn was handed to us as we were cancelled: pass it on
                else:
                    queue.remove(turn)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._hand_on()

    def _hand_on(self) -> None:
        """Give the turn to the next urgent writer, else the next in line, else nobody (it stays busy when handed)."""
        for queue in (self._urgent, self._waiting):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._busy = False
