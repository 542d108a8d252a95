"""The test suite's fake Bot API server, extended for load: concurrent webhook delivery and cheap waiting.

`FakeTelegram` POSTs webhook updates one at a time, in order, and a bot that acknowledges an update only after
processing it (as ours does) is then never asked to process two updates at once. Telegram keeps up to the
webhook's ``max_connections`` (default 40) POSTs open at once. `BenchFake` does the same: up to ``connections``
POSTs in flight (default: the webhook's ``max_connections``), never two of one chat, oldest update first, each
through the fake's own `_post_update` (same secret header, same `Delivery` records). ``connections=1`` keeps the
stock one-at-a-time delivery.

`FakeTelegram.wait_for` re-evaluates every waiter's predicate on every fake event, which costs O(citizens) per
Bot API call in a load test; `wait_bot_messages` wakes only the chat that got a message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from fake_telegram import Entry, FakeTelegram
from fake_telegram_model import update_chat_id


class BenchFake(FakeTelegram):
    def __init__(self, *args: Any, connections: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections = connections
        self.max_in_flight = 0
        self.latest: dict[int, Entry] = {}
        self._counts: dict[int, int] = defaultdict(int)
        self._chat_waiters: dict[int, tuple[int, asyncio.Future[None]]] = {}
        self._in_flight: set[int] = set()
        self._busy_chats: set[int | None] = set()
        self._posts: set[asyncio.Task[None]] = set()

    # -- waiting on one chat ----------------------------------------------------------------------------------

    def bot_count(self, chat_id: int) -> int:
        return self._counts[chat_id]

    async def wait_bot_messages(self, chat_id: int, count: int, timeout: float) -> Entry:
        """Wait until the bot has sent ``count`` messages to the chat; return the latest."""
        if self._counts[chat_id] < count:
            future = asyncio.get_running_loop().create_future()
            self._chat_waiters[chat_id] = (count, future)
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise TimeoutError(f"chat {chat_id}: {self._counts[chat_id]} of {count} bot messages after "
                                   f"{timeout}s; webhook paused: {self.webhook_paused}, last error: "
                                   f"{self.webhook_last_error}, {len(self._in_flight)} POSTs in flight, "
                                   f"{len(self._pending)} updates pending\n{self.describe(chat_id)}") from None
            finally:
                self._chat_waiters.pop(chat_id, None)
        return self.latest[chat_id]

    def _post_bot_message(self, chat_id: int, content: dict[str, Any], markup: dict[str, Any] | None
                          ) -> dict[str, Any]:
        message = super()._post_bot_message(chat_id, content, markup)
        self.latest[chat_id] = self._messages[(chat_id, message["message_id"])]
        self._counts[chat_id] += 1
        waiter = self._chat_waiters.get(chat_id)
        if waiter is not None and self._counts[chat_id] >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)
        return message

    # -- concurrent webhook delivery ----------------------------------------------------------------------------

    def _kick_webhook(self) -> None:
        if self.connections == 1:
            super()._kick_webhook()
            return
        if not self.webhook or self.webhook_paused or self._closing:
            return
        limit = self.connections or int(self.webhook.get("max_connections") or 40)
        if len(self._in_flight) >= limit:
            return
        loop = asyncio.get_running_loop()
        for update in self._pending:
            if len(self._in_flight) >= limit:
                break
            chat = update_chat_id(update)
            if update["update_id"] in self._in_flight or chat in self._busy_chats:
                continue
            self._in_flight.add(update["update_id"])
            self._busy_chats.add(chat)
            task = loop.create_task(self._post_one(update, chat))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)
        self.max_in_flight = max(self.max_in_flight, len(self._in_flight))

    async def _post_one(self, update: dict[str, Any], chat: int | None) -> None:
        try:
            ok = await self._post_update(update)
        finally:
            self._in_flight.discard(update["update_id"])
            self._busy_chats.discard(chat)
        if ok:
            index = next((i for i, pending in enumerate(self._pending) if pending is update), None)
            if index is not None:
                del self._pending[index]
        elif self.webhook_auto_retry:
            await asyncio.sleep(self.webhook_retry_delay)
        else:
            self.webhook_paused = True  # as the stock fake: held until redeliver()
        self._kick_webhook()

    async def close(self) -> None:
        self._closing = True
        for task in list(self._posts):
            task.cancel()
        for task in list(self._posts):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().close()
