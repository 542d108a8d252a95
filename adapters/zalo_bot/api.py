"""The Zalo Bot API client: POST JSON to {root}/bot{token}/{method}, Telegram-style {ok, result} envelopes.

The token is part of every URL, so nothing here lets a URL reach an exception or a log line: transport errors
become `Unreachable` with only the error's kind, and an API refusal becomes `ZaloBotError` with Zalo's own code.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

POLL_TIMEOUT_CODE = 408  # getUpdates: no update within the timeout
TOKEN_REFUSED = {401, 403, 404}  # getMe answers these for a token that is wrong or revoked
TRANSIENT = {408, 429, 500, 502, 503, 504}


class ZaloBotError(Exception):
    """The API answered {ok: false}: ``code`` is its error_code (0 for an answer that is not JSON)."""

    def __init__(self, code: int, description: str = "") -> None:
        super().__init__(f"Zalo Bot API error {code}: {description}"[:300])
        self.code, self.description = code, description

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT or self.code == 0


class Unreachable(ZaloBotError):
    """The API could not be reached (connection refused or dropped, a timeout)."""

    def __init__(self, kind: str) -> None:
        super().__init__(0, kind)


class BotApi:
    """Calls to one bot; ``root`` is SIPAS_ZALO_BOT_API_URL."""

    def __init__(self, http: aiohttp.ClientSession, root: str, token: str) -> None:
        self.http = http
        self._base = f"{root.rstrip('/')}/bot{token}"

    async def call(self, method: str, payload: dict[str, Any] | None = None, *, timeout: float = 15.0) -> Any:
        """The ``result`` of one call; raises `ZaloBotError` (or `Unreachable`)."""
        try:
            async with self.http.post(f"{self._base}/{method}", json=payload or {},
                                      timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise Unreachable(type(error).__name__) from None  # the URL (with the token) stays out of it
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise ZaloBotError(status if status >= 400 else 0, "not a JSON answer") from None
        if not isinstance(envelope, dict):
            raise ZaloBotError(0, "not an envelope")
        if envelope.get("ok") is True:
            return envelope.get("result")
        code = envelope.get("error_code")
        raise ZaloBotError(code if isinstance(code, int) else status, str(envelope.get("description") or ""))

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})
