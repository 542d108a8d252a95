"""The HTTP API under `/api/v1`: keys in `Authorization: Bearer <key>`, every error as
`{"error": {"code": ..., "message": ...}}` (`bot.http.api.errors`)."""

from __future__ import annotations

from aiohttp import web

from bot.http.api import reports, responses
from bot.http.api.errors import PREFIX, api_errors

__all__ = ["PREFIX", "api_errors", "routes"]


def routes() -> list[web.RouteDef]:
    return [*reports.ROUTES, *responses.ROUTES]
