"""The Zalo OA Open API and ZNS over HTTP, for the OA channel and the ZNS sender: the access token in the
`access_token` header, the `{error, message, data}` envelope checked (Zalo answers errors with HTTP 200), the
token refreshed and the call retried once on -216/-220, and the error codes sorted into what the caller must do.
Wire facts: ../shared/docs/platforms.md §A.1, §A.7, §B.1."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)
TOKEN_CODES = (-216, -220, -124)  # invalid / expired access token (ZNS says -124)
# The citizen cannot be reached now: not following, blocked, inactive, no interaction in 7 days, night curfew,
# restricted (chatwoot's WINDOW_CODES).
WINDOW_CODES = (-213, -217, -227, -230, -232, -234, -244)
RATE_CODES = (-32,)
TIMEOUT = aiohttp.ClientTimeout(total=15)


class TokenSource(Protocol):
    async def access_token(self) -> str:
        """The current access token (refreshed first when it is about to expire)."""

    async def refreshed_after(self, stale: str) -> str:
        """A new access token after ``stale`` was refused (refreshed here unless another worker already did)."""


class ZaloAPIError(Exception):
    """Zalo refused a call: ``code`` is its error number (0 for a transport or format problem)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code, self.message = code, message


class WindowClosed(ZaloAPIError):
    """The user cannot get a consultation message now (the 7-day interaction window is closed, or similar)."""


class RateLimited(ZaloAPIError):
    """The app hit Zalo's rate limit: back off."""


def error_for(code: int, message: str) -> ZaloAPIError:
    kind = WindowClosed if code in WINDOW_CODES else RateLimited if code in RATE_CODES else ZaloAPIError
    return kind(code, message)


class OAApi:
    """Calls to one Zalo API host (OA or ZNS) with the OA's access token."""

    def __init__(self, http: aiohttp.ClientSession, tokens: TokenSource) -> None:
        self.http, self.tokens = http, tokens

    async def call(self, method: str, url: str, *, json: Any = None, params: dict | None = None,
                   data: Any = None) -> dict:
        """One call; returns the envelope's ``data`` (``{}`` when absent), raises a `ZaloAPIError` otherwise."""
        token = await self.tokens.access_token()
        body = await self._once(method, url, token, json=json, params=params, data=data)
        if body.get("error") in TOKEN_CODES:
            log.info("zalo: access token refused (%s); refreshing and retrying once", body.get("error"))
            token = await self.tokens.refreshed_after(token)
            body = await self._once(method, url, token, json=json, params=params, data=data)
        code = body.get("error", 0)
        if code != 0:
            raise error_for(int(code), str(body.get("message", "")))
        return body.get("data") or {}

    async def _once(self, method: str, url: str, token: str, **kwargs) -> dict:
        try:
            async with self.http.request(method, url, headers={"access_token": token}, timeout=TIMEOUT,
                                         **kwargs) as response:
                if response.status >= 500:
                    raise ZaloAPIError(0, f"HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise ZaloAPIError(0, f"{type(error).__name__}: {error}") from error
        if not isinstance(body, dict) or not isinstance(body.get("error", 0), int):
            raise ZaloAPIError(0, "not a Zalo API answer")
        return body
