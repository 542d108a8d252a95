"""The HTTP API under `/api/v1`: keys in `Authorization: Bearer <key>`, every error as
`{"error": {"code": ..., "message": ...}}` (`bot.http.api.errors`).

Each module of `MODULES` exports `ROUTES` (aiohttp routes) and `PATHS` (their OpenAPI path items); a new module of
the API is added to `MODULES`, and `GET /api/v1/openapi.json` (`bot.http.api.openapi`) documents it.
"""

from __future__ import annotations

from aiohttp import web

from bot.http.api import cases, directory, invitations, openapi, reports, responses
from bot.http.api.errors import PREFIX, api_errors

__all__ = ["MODULES", "PREFIX", "api_errors", "routes"]

MODULES = [reports, invitations, directory, responses, cases]


def routes() -> list[web.RouteDef]:
    return [*(route for module in MODULES for route in module.ROUTES), *openapi.routes(MODULES)]
