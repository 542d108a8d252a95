"""Who calls: the key in `Authorization: Bearer <key>`, checked against the stored hashes (`bot.survey.api_keys`)."""

from __future__ import annotations

from aiohttp import web

from bot.http.api.errors import ApiError
from bot.http.keys import SERVICES
from bot.survey.api_keys import Caller, caller_of


async def caller(request: web.Request) -> Caller:
    """The caller of ``request``; 401 without a key, or with one that is wrong or revoked."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError.of(401, "admin.api_missing_key")
    async with request.app[SERVICES].db.reading() as session:
        found = await caller_of(session, secret.strip())
    if found is None:
        raise ApiError.of(401, "admin.api_bad_key")
    return found
