"""The Zalo OA's token pair in the database (`zalo_tokens`, row "oa").

FOUNDATION STUB: `access_token` reads the stored pair; refreshing (single-use rotating refresh token, one refresh at
a time across workers, both new tokens saved in the refresh's transaction) is being written on branch zalo-tokens.
"""

from __future__ import annotations

import aiohttp

from bot.errors import UserError
from bot.services import Services
from bot.storage.models import ZaloToken

ROW = "oa"


class NotAuthorized(UserError):
    """No token pair yet: `sipas-bot zalo authorize` first."""


class OATokens:
    """The `TokenSource` of adapters/zalo_oa/api.py, backed by the database."""

    def __init__(self, services: Services, http: aiohttp.ClientSession) -> None:
        self.services, self.http = services, http

    async def access_token(self) -> str:
        async with self.services.db.reading() as session:
            row = await session.get(ZaloToken, ROW)
        if row is None:
            raise NotAuthorized("the Zalo OA is not authorized yet: run `sipas-bot zalo authorize`")
        return row.access_token

    async def refreshed_after(self, stale: str) -> str:
        raise NotImplementedError("token refresh: branch zalo-tokens")
