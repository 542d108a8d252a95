"""A wire-compatible fake Telegram Bot API server for tests: aiohttp on 127.0.0.1, for the real python-telegram-bot.

Usage::

    async with FakeTelegram() as fake:
        app = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
               .base_file_url(fake.base_file_url).build())
        ...  # start polling, or set a webhook
        fake.user_sends(42, "/start TOKEN")
        [reply] = await fake.wait_for_bot_messages(42, 1)
        assert reply.keyboard == [[("Yes", "q1:yes")]]

Methods served: see ``fake_telegram_api.BotApi``; records and wire helpers live in ``fake_telegram_model``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from fake_telegram_api import METHODS, BotApi
from fake_telegram_model import (
    SECRET_HEADER,
    ApiError,
    Call,
    Delivery,
    Entry,
    UploadedFile,
    injected_error,
    read_params,
    update_chat_id,
    utf16_len,
)

__all__ = ["Call", "Delivery", "Entry", "FakeTelegram", "UploadedFile"]


class FakeTelegram(BotApi):
    """An in-process Telegram Bot API server with simulated users, fault injection and timing records.

    Attributes:
        token: The only token the server accepts (others get 401).
        bot: The bot's User JSON, returned by getMe and used as ``from`` of bot messages.
        calls: Every API request, in arrival order.
        deliveries: Every update handed to the bot (webhook POSTs and getUpdates results), with timings.
        uploads: Every file the bot uploaded (sendPhoto/sendDocument).
        webhook: ``{"url", "secret_token", "max_connections"}`` while a webhook is set, else ``None``.
        webhook_secret_mode: "correct" (default), "wrong" or "missing": the secret header the fake sends.
        webhook_paused: True after a failed POST (unless ``webhook_auto_retry``) until ``redeliver()``.
        commands: ``setMyCommands`` lists by (scope JSON, language_code).
        blocked: Chat ids whose user blocked the bot: sends to them get 403.
    """

    def __init__(self, token: str = "123456:TEST", *, bot_username: str = "test_bot", bot_first_name: str = "Test Bot",
                 bot_id: int | None = None, default_user: dict[str, Any] | None = None, first_update_id: int = 1000,
                 webhook_auto_retry: bool = False, webhook_retry_delay: float = 0.2, webhook_timeout: float = 10.0,
                 port: int = 0):
        self.token, self.port = token, port  # a fixed port lets a test start the Bot API after the bot
        self.bot = {"id": bot_id or int(token.split(":")[0]), "is_bot": True, "first_name": bot_first_name,
                    "username": bot_username, "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        self.default_user = default_user or {}
        self.webhook_auto_retry, self.webhook_retry_delay = webhook_auto_retry, webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self.uploads: list[UploadedFile] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_secret_mode = "correct"
        self.webhook_paused = False
        self.webhook_last_error: tuple[int, str] | None = None
        self.allowed_updates: list[str] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.blocked: set[int] = set()
        self.base_url = self.base_file_url = ""
        self._pending: list[dict[str, Any]] = []
        self._entries: dict[int, list[Entry]] = defaultdict(list)
        self._messages: dict[tuple[int, int], Entry] = {}
        self._queries: dict[str, Entry] = {}
        self._awaiting_reply: dict[int | None, list[Delivery]] = defaultdict(list)
        self._chats: dict[int, dict[str, Any]] = {}
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(4_611_686_018_427_387_904)
        self._faults: dict[str, list[ApiError]] = defaultdict(list)
        self._held: dict[str, asyncio.Event] = {}
        self._waiters: set[asyncio.Future[None]] = set()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        """Start the server on 127.0.0.1 (a free port) and set ``base_url`` / ``base_file_url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()  # 0: a free port
        port = self._runner.addresses[0][1]
        self.base_url, self.base_file_url = f"http://127.0.0.1:{port}/bot", f"http://127.0.0.1:{port}/file/bot"
        self._session = ClientSession()
        return self

    async def close(self) -> None:
        """Stop webhook delivery, end pending long polls (they return ``[]``) and stop the server. Idempotent."""
        self._closing = True
        self._notify()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._worker = self._session = self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- inspection -------------------------------------------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[Entry]:
        """Everything in the chat in order: bot messages (as they are now), user messages and button presses."""
        return list(self._entries.get(chat_id, []))

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[Entry]:
        """The bot's messages in the chat, oldest first."""
        return [e for e in self._entries.get(chat_id, []) if e.kind == "bot" and (include_deleted or not e.deleted)]

    def last_message(self, chat_id: int) -> Entry | None:
        """The bot's latest (not deleted) message in the chat: ``.text``, ``.keyboard``, ``.message``, ``.history``."""
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def message(self, chat_id: int, message_id: int) -> Entry:
        """The transcript entry of one message (KeyError if unknown)."""
        return self._messages[(chat_id, message_id)]

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls of one method (case-insensitive); ``ok=True``/``False`` keeps only successes/failures."""
        return [c for c in self.calls if c.method.lower() == method.lower() and (ok is None or c.ok == ok)]

    def answer_of(self, callback_query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery params the bot gave for a press, or ``None`` while unanswered."""
        return self._queries[callback_query_id].answer

    @property
    def failures(self) -> list[Call]:
        """Calls that got an injected fault (``fail_next``)."""
        return [c for c in self.calls if c.injected]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (getUpdates offset) or successfully POSTed to the webhook."""
        return list(self._pending)

    def describe(self, chat_id: int | None = None) -> str:
        """A readable dump of recent calls and the transcripts, for failure messages."""
        lines = [f"{c.method} {c.status} {str(c.params)[:200]}" + (f" -> {c.error}" if c.error else "")
                 for c in self.calls[-15:]]
        for chat in [chat_id] if chat_id is not None else list(self._entries):
            lines += [f"chat {chat}:"] + [f"  {e.describe()}" for e in self._entries.get(chat, [])]
        return "\n".join(["recent calls:", *lines])

    # -- simulated users --------------------------------------------------------------------------------------------

    def user_sends(self, chat_id: int, text: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
        """The user sends ``text`` in a private chat; returns the Update.

        A leading "/command" gets a bot_command entity, so CommandHandler and ``context.args`` work.
        """
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"offset": 0, "length": utf16_len(text.split()[0]), "type": "bot_command"}]
        return self._user_message(chat_id, user, content)

    def user_sends_sticker(self, chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
        """The user sends a sticker. Returns the Update."""
        meta = self._new_file(b"RIFF fake webp", "sticker", "sticker.webp", "image/webp")
        return self._user_message(chat_id, user, {"sticker": self._media_json("sticker", meta)})

    def user_sends_photo(self, chat_id: int, data: bytes = b"\x89PNG fake", caption: str | None = None,
                         user: dict[str, Any] | None = None) -> dict[str, Any]:
        """The user sends a photo (downloadable via getFile). Returns the Update."""
        meta = self._new_file(data, "photo", "photo.jpg", "image/jpeg")
        return self._user_message(chat_id, user, {"photo": self._media_json("photo", meta)}
                                  | ({"caption": caption} if caption else {}))

    def user_sends_voice(self, chat_id: int, data: bytes = b"OggS fake", user: dict[str, Any] | None = None
                         ) -> dict[str, Any]:
        """The user sends a voice note. Returns the Update."""
        meta = self._new_file(data, "voice", "voice.ogg", "audio/ogg")
        return self._user_message(chat_id, user, {"voice": self._media_json("voice", meta)})

    def user_sends_document(self, chat_id: int, data: bytes = b"%PDF fake", filename: str = "file.pdf",
                            mime_type: str = "application/pdf", user: dict[str, Any] | None = None) -> dict[str, Any]:
        """The user sends a document. Returns the Update."""
        meta = self._new_file(data, "document", filename, mime_type)
        return self._user_message(chat_id, user, {"document": self._media_json("document", meta)})

    def user_presses(self, chat_id: int, message_id: int, callback_data: str, user: dict[str, Any] | None = None,
                     *, check: bool = True) -> str:
        """The user presses an inline button of a bot message; returns the callback query id.

        The query carries the message as it is now. With ``check`` (default) the button must be on its current
        keyboard, as in a real client; ``check=False`` sends any data (a stale or forged press).
        """
        entry = self._messages[(chat_id, message_id)]
        if entry.deleted or entry.kind != "bot":
            raise ValueError(f"message {message_id} in chat {chat_id} is deleted or not the bot's")
        if check and callback_data not in [data for row in entry.keyboard for _, data in row]:
            raise ValueError(f"no button {callback_data!r} on message {message_id}: {entry.keyboard}")
        query_id = str(next(self._query_ids))
        press = Entry("press", chat_id, entry.message, time.monotonic(), callback_data=callback_data,
                      callback_query_id=query_id)
        self._entries[chat_id].append(press)
        self._queries[query_id] = press
        query = {"id": query_id, "from": self._user(chat_id, user), "message": entry.message,
                 "chat_instance": f"{chat_id * 7919}", "data": callback_data}
        self._enqueue({"callback_query": query})
        return query_id

    # -- faults -----------------------------------------------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, *, retry_after: int | None = None, count: int = 1,
                  description: str | None = None) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status`` (429 gets ``parameters.retry_after``,
        default 1). Failed calls are recorded with ``injected=True`` (see ``failures``)."""
        self._faults[method.lower()] += [injected_error(status, retry_after, description)] * count

    def hold(self, method: str) -> None:
        """Calls of ``method`` hang, unanswered, until ``release`` (a reply that never reaches Telegram)."""
        self._held[method.lower()] = asyncio.Event()

    def release(self) -> None:
        for event in self._held.values():
            event.set()
        self._held.clear()

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to ``chat_id`` get 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def redeliver(self) -> None:
        """Resume webhook delivery after a failed POST (the failed update is sent again first)."""
        self.webhook_paused = False
        self._kick_webhook()

    # -- waiting ----------------------------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "") -> Any:
        """Wait until ``predicate()`` is truthy and return its value; TimeoutError (with a dump) after ``timeout``.

        Re-checks on every fake event, and every 50 ms for conditions on state outside the fake.
        """
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}\n{self.describe()}")
            await self._changed(min(remaining, 0.05))
        return value

    async def wait_for_bot_messages(self, chat_id: int, count: int, timeout: float = 5.0) -> list[Entry]:
        """Wait until the bot has sent at least ``count`` messages (deleted ones count) to the chat; return them."""
        await self.wait_for(lambda: len(self.bot_messages(chat_id, include_deleted=True)) >= count, timeout,
                            f"{count} bot message(s) in chat {chat_id}")
        return self.bot_messages(chat_id, include_deleted=True)

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0, *, ok: bool | None = None
                            ) -> list[Call]:
        """Wait until ``method`` has been called at least ``count`` times; return those calls."""
        await self.wait_for(lambda: len(self.calls_to(method, ok=ok)) >= count, timeout, f"{count} x {method}")
        return self.calls_to(method, ok=ok)

    # -- HTTP -------------------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        canonical, handler = METHODS.get(name.lower(), (name, None))
        call = Call(canonical, {}, time.monotonic())
        self.calls.append(call)
        try:
            call.params, call.files = await read_params(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler is None:
                raise ApiError(404, "Not Found")
            if name.lower() in self._held:
                call.held = True
                self._notify()
                await self._held[name.lower()].wait()
                raise ApiError(500, "Internal Server Error: held")
            if self._faults.get(name.lower()):
                call.injected = True
                raise self._faults[name.lower()].pop(0)
            result = handler(self, call.params, call.files)
            call.result = await result if inspect.isawaitable(result) else result
            body: dict[str, Any] = {"ok": True, "result": call.result}
        except ApiError as exc:
            call.status, call.error, body = exc.status, exc.description, exc.body()
        self._notify()
        return web.json_response(body, status=call.status)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        for meta, data in self.files.values():
            if meta["file_path"] == request.match_info["path"]:
                return web.Response(body=data, content_type=meta["mime_type"])
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    # -- internals --------------------------------------------------------------------------------------------------

    def _user(self, chat_id: int, user: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Test", "last_name": "User",
                "username": f"user{chat_id}", "language_code": "vi"} | self.default_user | (user or {})

    def _chat(self, chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
        if chat_id not in self._chats:
            person = self._user(chat_id, user)
            self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": person["first_name"]} | (
                {"username": person["username"]} if person.get("username") else {})
        return self._chats[chat_id]

    def _user_message(self, chat_id: int, user: dict[str, Any] | None, content: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids[chat_id]), "from": self._user(chat_id, user),
                   "chat": self._chat(chat_id, user), "date": int(time.time())} | content
        entry = Entry("user", chat_id, message, time.monotonic())
        self._entries[chat_id].append(entry)
        self._messages[(chat_id, message["message_id"])] = entry
        return self._enqueue({"message": message})

    def _post_bot_message(self, chat_id: int, content: dict[str, Any], markup: dict[str, Any] | None
                          ) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids[chat_id]), "from": self.bot, "chat": self._chat(chat_id),
                   "date": int(time.time())} | content | ({"reply_markup": markup} if markup else {})
        entry = Entry("bot", chat_id, message, time.monotonic())
        self._entries[chat_id].append(entry)
        self._messages[(chat_id, message["message_id"])] = entry
        return message

    def _record_delivery(self, delivery: Delivery) -> Delivery:
        self.deliveries.append(delivery)
        self._awaiting_reply[delivery.chat_id].append(delivery)
        return delivery

    def _mark_reply(self, chat_id: int, method: str) -> None:
        now = time.monotonic()
        for delivery in self._awaiting_reply.pop(chat_id, []):
            delivery.reply_at, delivery.reply_method = now, method

    def _enqueue(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids)} | payload
        self._pending.append(update)
        self._notify()
        self._kick_webhook()
        return update

    def _kick_webhook(self) -> None:
        if self.webhook and self._pending and not self.webhook_paused and not self._closing and (
                self._worker is None or self._worker.done()):
            self._worker = asyncio.get_running_loop().create_task(self._deliver_pending())

    async def _deliver_pending(self) -> None:
        while self.webhook and not self.webhook_paused and not self._closing:
            self._drop_disallowed()
            if not self._pending:
                return
            update = self._pending[0]
            if await self._post_update(update):
                self._pending = [u for u in self._pending if u is not update]
            elif self.webhook_auto_retry:
                await asyncio.sleep(self.webhook_retry_delay)
            else:
                self.webhook_paused = True

    async def _post_update(self, update: dict[str, Any]) -> bool:
        assert self.webhook is not None and self._session is not None
        secret = self.webhook.get("secret_token")
        headers = {"missing": {}, "wrong": {SECRET_HEADER: f"{secret or ''}wrong"}}.get(
            self.webhook_secret_mode, {SECRET_HEADER: secret} if secret else {})
        delivery = self._record_delivery(Delivery(update["update_id"], update_chat_id(update), "webhook",
                                                  time.monotonic(), secret=headers.get(SECRET_HEADER)))
        try:
            async with self._session.post(self.webhook["url"], json=update, headers=headers,
                                          timeout=ClientTimeout(total=self.webhook_timeout)) as response:
                await response.read()
                delivery.status = response.status
        except (ClientError, TimeoutError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        delivery.responded_at = time.monotonic()
        ok = delivery.status is not None and 200 <= delivery.status < 300
        if not ok:
            reason = f"Wrong response from the webhook: {delivery.status}" if delivery.status else delivery.error
            self.webhook_last_error = (int(time.time()), str(reason))
        self._notify()
        return ok
