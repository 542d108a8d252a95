"""A wire-compatible fake of the Zalo OA Open API for tests: aiohttp on 127.0.0.1, serving
`POST /v3.0/oa/message/cs` (../shared/docs/platforms.md §A.2, §A.3, §A.7, §E).

It answers as Zalo does, HTTP 200 with `{"error", "message", "data"}`; it checks the `access_token` header against
the tokens it was told are valid (-216 otherwise), checks the message's shape against the limits we rely on (text
at most 2,000 characters, at most 5 `oa.query.*` buttons, titles at most 100 characters, string payloads;
-201 otherwise), and records every message: `sent` (delivered) and `attempts` (also the refused ones). Errors are
injected per user id: `fail_user(user, -230)` (window closed), -216 (token invalid), -32 (rate limit), ...

    async with FakeZaloOA(tokens={"access-1"}) as oa:
        settings = Settings(zalo_oa_api_url=oa.base_url, ...)
        ...
        [reply] = await oa.wait_for_messages("user-1", 1)
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from aiohttp import web

CS_PATH = "/v3.0/oa/message/cs"
MESSAGES = {-230: "User has not interacted with OA in past 7 days", -232: "User has not interacted with OA",
            -216: "Access token is invalid", -220: "access_token is expired or removed",
            -32: "App has reached API call rate limit", -201: "Parameters are invalid"}


@dataclass
class Sent:
    """One cs message the bot sent (or tried to): to whom, its text and buttons (title, type, payload)."""

    user_id: str
    text: str
    buttons: list[tuple[str, str, str]]
    body: dict
    token: str
    error: int = 0

    @property
    def payloads(self) -> list[str]:
        return [payload for _, _, payload in self.buttons]


@dataclass
class Failure:
    code: int
    times: int | None  # None: until cleared


@dataclass
class FakeZaloOA:
    tokens: set[str] = field(default_factory=lambda: {"access-1"})
    sent: list[Sent] = field(default_factory=list)
    attempts: list[Sent] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def __aenter__(self) -> FakeZaloOA:
        app = web.Application()
        app.router.add_post(CS_PATH, self._cs)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()

    def fail_user(self, user_id: str, code: int, times: int | None = None) -> None:
        """Refuse messages to ``user_id`` with Zalo error ``code``, ``times`` times (None: until `clear_user`)."""
        self.failures[user_id] = Failure(code, times)

    def clear_user(self, user_id: str) -> None:
        self.failures.pop(user_id, None)

    def messages(self, user_id: str) -> list[Sent]:
        """What ``user_id`` received, in order."""
        return [m for m in self.sent if m.user_id == user_id]

    async def wait_for_messages(self, user_id: str, count: int, timeout: float = 10.0) -> list[Sent]:
        """The first ``count`` messages ``user_id`` received, once they are there."""
        await self.wait_for(lambda: len(self.messages(user_id)) >= count,
                            f"{count} messages to {user_id} (got {len(self.messages(user_id))})", timeout)
        return self.messages(user_id)[:count]

    async def wait_for(self, condition, what: str, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"waited {timeout} s for {what}")
            await asyncio.sleep(0.01)

    async def _cs(self, request: web.Request) -> web.Response:
        token = request.headers.get("access_token", "")
        try:
            body = await request.json()
            user, text, buttons = _read(body)
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(-201)
        record = Sent(user, text, buttons, body, token)
        self.attempts.append(record)
        code = 0 if token in self.tokens else -216
        failure = self.failures.get(user)
        if code == 0 and failure is not None:
            code = failure.code
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self.failures[user]
        if code == 0 and not _valid(text, buttons):
            code = -201
        if code:
            record.error = code
            return _error(code)
        self.sent.append(record)
        return web.json_response({"error": 0, "message": "Success", "data": {
            "message_id": f"{next(self._ids):032x}", "user_id": user,
            "quota": {"quota_type": "reply", "remain": 7, "total": 8}}})


def _read(body: dict) -> tuple[str, str, list[tuple[str, str, str]]]:
    user = body["recipient"]["user_id"]
    message = body["message"]
    if not isinstance(user, str) or not isinstance(message, dict):
        raise TypeError("recipient.user_id and message")
    attachment = message.get("attachment")
    buttons = []
    if attachment is not None:
        if attachment["type"] != "template":
            raise ValueError("attachment.type")
        buttons = [(b["title"], b["type"], b["payload"]) for b in attachment["payload"]["buttons"]]
    return user, message.get("text", ""), buttons


def _valid(text: str, buttons: list[tuple[str, str, str]]) -> bool:
    return (isinstance(text, str) and 0 < len(text) <= 2000 and len(buttons) <= 5
            and all(isinstance(title, str) and 0 < len(title) <= 100 and kind in ("oa.query.hide", "oa.query.show")
                    and isinstance(payload, str) and 0 < len(payload) <= 1000 for title, kind, payload in buttons))


def _error(code: int) -> web.Response:
    return web.json_response({"error": code, "message": MESSAGES.get(code, "Unknown error")})
