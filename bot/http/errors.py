"""The HTTP error boundary: every error leaves as JSON {"error": ..., "status": ...}; internals are never shown."""

from __future__ import annotations

import logging

from aiohttp import web

from bot import counters
from bot.errors import UserError

log = logging.getLogger(__name__)


@web.middleware
async def json_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return web.json_response({"error": error.reason, "status": error.status}, status=error.status)
    except UserError as error:
        return web.json_response({"error": str(error), "status": error.status}, status=error.status)
    except Exception:
        log.exception("HTTP %s %s failed", request.method, request.path)
        counters.error_caught("http")
        return web.json_response({"error": "internal error", "status": 500}, status=500)
