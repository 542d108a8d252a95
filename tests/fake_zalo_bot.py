"""A wire-compatible fake of the Zalo Bot API for tests (platforms.md §C.1, §E): aiohttp on 127.0.0.1.

    async with FakeZaloBot() as fake:
        settings: SIPAS_ZALO_BOT_TOKEN=fake.token, SIPAS_ZALO_BOT_API_URL=fake.url
        await fake.send(CHAT, "ABCD-EFGH")  # polling: queued for getUpdates; webhook: POSTed to the bot
        texts = await fake.wait_for_messages(CHAT, 2)

Served: POST /bot{token}/{getMe|sendMessage|setWebhook|deleteWebhook|getWebhookInfo|getUpdates} → {ok, result};
another token gets 401 {ok: false, error_code: 401}. getUpdates returns ONE update per call, or {ok: false,
error_code: 408} when none came within its timeout; it is refused (409) while a webhook is set. sendMessage
refuses a text over 2,000 characters (400) and records every message it accepts. Updates are built from the JSON
fixtures in tests/fixtures/zalo_bot/, and delivered by webhook with the X-Bot-Api-Secret-Token header, top-level
{event_name, message} or wrapped in {ok, result}.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

FIXTURES = Path(__file__).parent / "fixtures" / "zalo_bot"
KIND_FIXTURES = {"text": "text.json", "image": "image.json", "sticker": "sticker.json",
                 "unsupported": "unsupported.json", "group": "group_text.json"}
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000


def fixture(name: str) -> dict[str, Any]:
    """One JSON fixture, unwrapped from {ok, result} when it is wrapped."""
    body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return body.get("result", body) if "event_name" not in body else body


@dataclass(frozen=True)
class Sent:
    chat_id: str
    text: str
    message_id: str


class FakeZaloBot:
    """The API of one bot. ``calls``: every (method, JSON body); ``sent``: every accepted sendMessage;
    ``webhook``: {url, secret_token} while set; ``drop_polls``: that many getUpdates calls get their connection
    closed (a network failure)."""

    def __init__(self, token: str = "12345689:abc-xyz", *, port: int = 0) -> None:
        self.token, self.port = token, port
        self.me = {"id": token.split(":")[0], "account_name": "sipas_test_bot", "account_type": "BASIC",
                   "can_join_groups": False, "display_name": "Khảo sát SIPAS"}
        self.calls: list[tuple[str, dict]] = []
        self.sent: list[Sent] = []
        self.webhook: dict[str, str] | None = None
        self.drop_polls = 0
        self._queue: asyncio.Queue[dict] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None

    @property
    def url(self) -> str:
        """The API root, for SIPAS_ZALO_BOT_API_URL."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeZaloBot:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._http = ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._http.close()
        await self._runner.cleanup()

    # -- the API ------------------------------------------------------------------------------------------------

    async def _call(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return _error(400, "Bad Request: the body is not JSON")
        self.calls.append((method, body))
        if method == "getUpdates" and self.drop_polls > 0:
            self.drop_polls -= 1
            request.transport.close()  # the connection drops: a network error at the bot
            return web.Response()
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method")
        return await handler(body)

    async def _getMe(self, body: dict) -> web.Response:
        return _ok(self.me)

    async def _setWebhook(self, body: dict) -> web.Response:
        url, secret = body.get("url"), body.get("secret_token")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request: url")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return _error(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook = {"url": url, "secret_token": secret}
        return _ok({"url": url, "updated_at": int(time.time() * 1000)})

    async def _deleteWebhook(self, body: dict) -> web.Response:
        self.webhook = None
        return _ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def _getWebhookInfo(self, body: dict) -> web.Response:
        return _ok({"url": (self.webhook or {}).get("url", ""), "updated_at": int(time.time() * 1000)})

    async def _getUpdates(self, body: dict) -> web.Response:
        if self.webhook is not None:
            return _error(409, "Conflict: a webhook is set")
        try:
            timeout = float(body.get("timeout", 30))
        except (TypeError, ValueError):
            return _error(400, "Bad Request: timeout")
        try:
            update = await asyncio.wait_for(self._queue.get(), timeout=max(timeout, 0.01))
        except TimeoutError:
            return _error(408, "Request timeout")
        return _ok(update)

    async def _sendMessage(self, body: dict) -> web.Response:
        chat, text = body.get("chat_id"), body.get("text")
        if not isinstance(chat, str) or not chat or not isinstance(text, str) or not text:
            return _error(400, "Bad Request: chat_id and text are required")
        if len(text) > MAX_TEXT:
            return _error(400, f"Bad Request: text is longer than {MAX_TEXT} characters")
        sent = Sent(chat, text, secrets.token_hex(10))
        self.sent.append(sent)
        self._changed.set()
        return _ok({"message_id": sent.message_id, "date": int(time.time() * 1000)})

    # -- the users ----------------------------------------------------------------------------------------------

    def update(self, chat_id: str, text: str | None = None, *, kind: str = "text",
               message_id: str | None = None) -> dict:
        """An update of ``kind`` (text, image, sticker, unsupported, group) from ``chat_id``, from its fixture."""
        update = copy.deepcopy(fixture(KIND_FIXTURES[kind]))
        message = update["message"]
        message["message_id"] = message_id or f"m{next(self._ids):08d}{secrets.token_hex(6)}"
        message["date"] = int(time.time() * 1000)
        message["from"]["id"] = chat_id
        if kind != "group":
            message["chat"]["id"] = chat_id
        if text is not None:
            message["text"] = text
        return update

    async def send(self, chat_id: str, text: str | None = None, *, kind: str = "text", envelope: str = "top",
                   message_id: str | None = None) -> int | None:
        """A user's message: POSTed to the webhook when one is set (its HTTP status is returned), else queued
        for getUpdates."""
        update = self.update(chat_id, text, kind=kind, message_id=message_id)
        if self.webhook is None:
            self._queue.put_nowait(update)
            return None
        status, _ = await self.deliver(update, envelope=envelope)
        return status

    async def deliver(self, update: dict, *, envelope: str = "top", secret: str | None = "correct",
                      raw: bytes | None = None) -> tuple[int, Any]:
        """POST one update to the webhook as Zalo does; ``secret``: "correct", None (no header) or a wrong value.
        Returns (status, JSON body)."""
        body = {"ok": True, "result": update} if envelope == "wrapped" else update
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = self.webhook["secret_token"] if secret == "correct" else secret
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        async with self._http.post(self.webhook["url"], data=data, headers=headers) as response:
            try:
                return response.status, await response.json()
            except ValueError:
                return response.status, await response.text()

    def messages(self, chat_id: str) -> list[str]:
        return [sent.text for sent in self.sent if sent.chat_id == chat_id]

    async def wait_for_messages(self, chat_id: str, count: int, timeout: float = 10.0) -> list[str]:
        """The first ``count`` messages the bot sent to ``chat_id``, once there are that many."""
        deadline = time.monotonic() + timeout
        while len(self.messages(chat_id)) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{count} messages to {chat_id} expected, got {self.messages(chat_id)}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.2))
        return self.messages(chat_id)[:count]


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
