"""A wire-compatible fake of Zalo's OAuth v4 token endpoint for the OA (platforms.md §A.6, §E): aiohttp on
127.0.0.1.

`POST /v4/oa/access_token`, form-encoded, with the app secret in the `secret_key` header:
- `grant_type=authorization_code`, `app_id`, `code`, `code_verifier`: the code must be one `approve()` issued for
  an authorization URL, and sha256(code_verifier) must be the `code_challenge` that URL carried;
- `grant_type=refresh_token`, `app_id`, `refresh_token`: the refresh token is single-use; each refresh returns a
  new pair, and a used (or unknown) refresh token is refused.
Answers are as Zalo's: the pair at the top level with `expires_in` a string, or an error body
`{error, error_name, error_description}` with HTTP 200 (the error numbers are not documented anywhere we could
read [U]; the client only relies on the body's shape).

Usage::

    async with FakeZaloOAuth(app_id="123", secret="app-secret") as fake:
        settings = Settings(zalo_oauth_url=fake.url, ...)
        code, state = fake.approve(printed_authorize_url)   # what Zalo's consent page does
        pair = fake.issue()                                 # or a pair to seed the database with
        fake.expire(pair["access_token"])                   # the OA API fake would now refuse it
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
import time
from urllib.parse import parse_qs, urlsplit

from aiohttp import web


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class FakeZaloOAuth:
    """The token endpoint, with its issued codes and tokens.

    Attributes:
        expires_in: Seconds each new access token lasts (sent as a string, as Zalo does).
        refresh_delay: Seconds a refresh takes to answer (to let concurrent callers really overlap).
        refresh_requests: Refresh calls that reached the endpoint (refused ones included).
        refreshes: Refreshes that issued a new pair.
        exchanges: Codes exchanged.
        calls: (grant_type, form, headers) of every call.
        redirects: The redirect_uri of every approved authorization URL.
        down: Answer every call with HTTP 503 (counted in ``calls`` as grant "down").
        answer_in_data: Wrap a new pair in ``{"data": ...}`` (the shape one integration reads, §A.6).
    """

    def __init__(self, app_id: str = "4291763606161179100", secret: str = "app-secret",
                 expires_in: int = 90_000) -> None:
        self.app_id, self.secret, self.expires_in = app_id, secret, expires_in
        self.refresh_delay = 0.0
        self.answer_in_data = False
        self.down = False
        self.refresh_requests = self.refreshes = self.exchanges = 0
        self.calls: list[tuple[str, dict, dict]] = []
        self.redirects: list[str] = []
        self._codes: dict[str, str] = {}  # code -> challenge
        self._live: set[str] = set()  # refresh tokens that can be spent
        self._spent: set[str] = set()
        self._access: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self._serial = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeZaloOAuth:
        app = web.Application()
        app.router.add_post("/v4/oa/access_token", self._token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # What Zalo's consent page does: the OA admin allowed access; a code goes back to the redirect.
    def approve(self, authorize_url: str) -> tuple[str, str]:
        """A code for ``authorize_url`` (checked: path, app_id, a challenge), and the URL's state."""
        parts = urlsplit(authorize_url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        assert parts.path == "/v4/oa/permission", parts.path
        assert query.get("app_id") == self.app_id, query
        assert len(query.get("code_challenge", "")) == 43, query  # base64url of 32 bytes, no padding
        assert query.get("redirect_uri", "").startswith(("http://", "https://")), query
        self.redirects.append(query["redirect_uri"])
        code = f"code-{next(self._serial)}-{secrets.token_urlsafe(24)}"
        self._codes[code] = query["code_challenge"]
        return code, query.get("state", "")

    def issue(self) -> dict[str, str]:
        """A new pair, as the endpoint answers it."""
        serial = next(self._serial)
        access, refresh = f"access-{serial}-{secrets.token_urlsafe(8)}", f"refresh-{serial}-{secrets.token_urlsafe(8)}"
        self._live.add(refresh)
        self._access[access] = time.time() + self.expires_in
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(self.expires_in)}

    def expire(self, access_token: str) -> None:
        """``access_token`` expires now (Zalo would answer -216/-220 to it)."""
        self._access[access_token] = 0.0

    def valid(self, access_token: str) -> bool:
        return self._access.get(access_token, 0.0) > time.time()

    @staticmethod
    def _error(code: int, name: str, description: str) -> web.Response:
        return web.json_response({"error": code, "error_name": name, "error_description": description})

    def _pair(self) -> web.Response:
        pair = self.issue()
        return web.json_response({"data": pair} if self.answer_in_data else pair)

    async def _token(self, request: web.Request) -> web.Response:
        if self.down:
            self.calls.append(("down", {}, dict(request.headers)))
            return web.Response(status=503, text="Service Unavailable")
        if request.content_type != "application/x-www-form-urlencoded":
            return self._error(-14001, "Invalid parameter", "the body must be form-encoded")
        form = dict(await request.post())
        grant = str(form.get("grant_type", ""))
        self.calls.append((grant, form, dict(request.headers)))
        if grant == "refresh_token":
            self.refresh_requests += 1
        if request.headers.get("secret_key") != self.secret:
            return self._error(-14002, "Invalid secret key", "secret_key is missing or wrong")
        if form.get("app_id") != self.app_id:
            return self._error(-14003, "Invalid app id", "app_id is missing or wrong")
        if grant == "authorization_code":
            challenge = self._codes.pop(str(form.get("code", "")), None)  # a code works once
            if challenge is None:
                return self._error(-14019, "Invalid authorization code", "the code is invalid or was used")
            if challenge_of(str(form.get("code_verifier", ""))) != challenge:
                return self._error(-14020, "Invalid code verifier", "code_verifier does not match code_challenge")
            self.exchanges += 1
            return self._pair()
        if grant == "refresh_token":
            token = str(form.get("refresh_token", ""))
            if token in self._spent:
                return self._error(-14014, "Invalid refresh token", "the refresh token was used already")
            if token not in self._live:
                return self._error(-14014, "Invalid refresh token", "the refresh token is invalid or expired")
            self._live.discard(token)
            self._spent.add(token)
            await asyncio.sleep(self.refresh_delay)
            self.refreshes += 1
            return self._pair()
        return self._error(-14001, "Invalid parameter", f"unknown grant_type {grant!r}")
